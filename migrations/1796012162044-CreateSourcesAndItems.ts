import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateSourcesAndItems1796012162044 implements MigrationInterface {
  name = 'CreateSourcesAndItems1796012162044';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "sources" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" character varying(200) NOT NULL, "domains" text array NOT NULL DEFAULT '{}', "feed_url" character varying(2048), "contact_email" character varying(254), "status" character varying(10) NOT NULL DEFAULT 'active', "strike_count" integer NOT NULL DEFAULT '0', "last_fetch_at" TIMESTAMP WITH TIME ZONE, "last_fetch_etag" character varying(500), "last_fetch_modified" character varying(100), "last_fetch_result" jsonb, "next_fetch_at" TIMESTAMP WITH TIME ZONE, "fetching_until" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "sources_strike_count_check" CHECK ("strike_count" >= 0), CONSTRAINT "sources_status_check" CHECK ("status" IN ('active', 'paused', 'blocked')), CONSTRAINT "PK_85523beafe5a2a6b90b02096443" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "sources_due_idx" ON "sources"  ("next_fetch_at") WHERE "status" = 'active' AND "feed_url" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE TABLE "items" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "source_id" uuid NOT NULL, "slug" character varying(120) NOT NULL, "title" character varying(500) NOT NULL, "author" character varying(200), "original_url" character varying(2048) NOT NULL, "original_url_normalised" character varying(2048) NOT NULL, "guid" character varying(1000) NOT NULL, "feed_url" character varying(2048), "source_published_at" TIMESTAMP WITH TIME ZONE, "first_fetched_at" TIMESTAMP WITH TIME ZONE NOT NULL, "last_fetched_at" TIMESTAMP WITH TIME ZONE NOT NULL, "listed_at" TIMESTAMP WITH TIME ZONE NOT NULL, "raw_sha256" character(64) NOT NULL, "rights" jsonb NOT NULL DEFAULT '{}', "content" text NOT NULL DEFAULT '', "excerpt" character varying(600) NOT NULL DEFAULT '', "status" character varying(10) NOT NULL DEFAULT 'published', "removed_at" TIMESTAMP WITH TIME ZONE, "removed_by_notice_id" uuid, "removal" jsonb, "withdrawn_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "items_removed_check" CHECK ("status" <> 'removed' OR ("removed_at" IS NOT NULL AND "removal" IS NOT NULL)), CONSTRAINT "items_status_check" CHECK ("status" IN ('published', 'removed', 'withdrawn')), CONSTRAINT "PK_ba5885359424c15ca6b9e79bcf6" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "items_slug_key" ON "items"  ("slug") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "items_original_url_key" ON "items"  ("original_url_normalised") `);
    await queryRunner.query(
      `CREATE INDEX "items_removed_by_notice_idx" ON "items"  ("removed_by_notice_id") WHERE "removed_by_notice_id" IS NOT NULL`,
    );
    await queryRunner.query(`CREATE INDEX "items_listed_idx" ON "items"  ("listed_at", "id") `);
    await queryRunner.query(`CREATE INDEX "items_source_listed_idx" ON "items"  ("source_id", "listed_at", "id") `);
    await queryRunner.query(`CREATE INDEX "items_published_idx" ON "items"  ("listed_at", "id") WHERE "status" = 'published'`);
    await queryRunner.query(`CREATE UNIQUE INDEX "items_source_guid_key" ON "items"  ("source_id", "guid") `);
    await queryRunner.query(
      `ALTER TABLE "items" ADD CONSTRAINT "FK_310bb69adbba3002f97773ca374" FOREIGN KEY ("source_id") REFERENCES "sources"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    // Hand-written: staff search by title (ILIKE '%…%') through a trigram index. pg_trgm is a trusted
    // extension (PostgreSQL 13+), so the database owner may create it without superuser rights.
    await queryRunner.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    await queryRunner.query(`CREATE INDEX "items_title_trgm_idx" ON "items" USING gin ("title" gin_trgm_ops)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."items_title_trgm_idx"`);
    await queryRunner.query(`ALTER TABLE "items" DROP CONSTRAINT "FK_310bb69adbba3002f97773ca374"`);
    await queryRunner.query(`DROP INDEX "public"."items_source_guid_key"`);
    await queryRunner.query(`DROP INDEX "public"."items_published_idx"`);
    await queryRunner.query(`DROP INDEX "public"."items_source_listed_idx"`);
    await queryRunner.query(`DROP INDEX "public"."items_listed_idx"`);
    await queryRunner.query(`DROP INDEX "public"."items_removed_by_notice_idx"`);
    await queryRunner.query(`DROP INDEX "public"."items_original_url_key"`);
    await queryRunner.query(`DROP INDEX "public"."items_slug_key"`);
    await queryRunner.query(`DROP TABLE "items"`);
    await queryRunner.query(`DROP INDEX "public"."sources_due_idx"`);
    await queryRunner.query(`DROP TABLE "sources"`);
  }
}
