import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every address an item is known by (issue 21). Backfill: items store the SHA-256 of their raw feed
 * entry, not the entry itself, so the only address known for an existing item is its original URL;
 * the next import of its feed adds the rest (and moves a proxied original URL to the publisher's,
 * which also lands here).
 */
export class CreateItemAliases1796600000001 implements MigrationInterface {
  name = 'CreateItemAliases1796600000001';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "item_aliases" ("url_normalised" character varying(2048) NOT NULL, "item_id" uuid NOT NULL, "kind" character varying(20) NOT NULL, "url" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "item_aliases_kind_check" CHECK ("kind" IN ('original', 'orig_link', 'guid', 'alternate', 'link', 'proxy', 'canonical')), CONSTRAINT "PK_87e37b88fe6768d0ee2c7d57ce3" PRIMARY KEY ("url_normalised"))`,
    );
    await queryRunner.query(`CREATE INDEX "item_aliases_item_idx" ON "item_aliases" ("item_id")`);
    await queryRunner.query(
      `ALTER TABLE "item_aliases" ADD CONSTRAINT "FK_7ec47040d52a1e8b07fc9bde3cf" FOREIGN KEY ("item_id") REFERENCES "items"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `INSERT INTO "item_aliases" ("url_normalised", "item_id", "kind", "url")
       SELECT "original_url_normalised", "id", 'original', "original_url" FROM "items"
       ON CONFLICT DO NOTHING`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "item_aliases"`);
  }
}
