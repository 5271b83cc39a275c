import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Staydown (SPEC §13): the fingerprint bank with its LSH band index, the release exceptions, and
 * the item status `held` with why it is held.
 */
export class AddStaydown1796200000000 implements MigrationInterface {
  name = 'AddStaydown1796200000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "content_fingerprints" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "item_id" uuid NOT NULL, "notice_id" uuid NOT NULL, "removal" jsonb NOT NULL, "raw_sha256" character(64) NOT NULL, "original_url_normalised" character varying(2048) NOT NULL, "shingles" integer array NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "retired_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_36aed185db82375068a64ebdfda" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "content_fingerprints_item_idx" ON "content_fingerprints"  ("item_id") `);
    await queryRunner.query(
      `CREATE INDEX "content_fingerprints_original_url_idx" ON "content_fingerprints"  ("original_url_normalised") WHERE "retired_at" IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "content_fingerprints_raw_sha256_idx" ON "content_fingerprints"  ("raw_sha256") WHERE "retired_at" IS NULL`,
    );
    await queryRunner.query(
      `CREATE TABLE "content_fingerprint_bands" ("band" bigint NOT NULL, "fingerprint_id" uuid NOT NULL, CONSTRAINT "PK_2fcbf8309739730180cd54734d7" PRIMARY KEY ("band", "fingerprint_id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "staydown_exceptions" ("item_id" uuid NOT NULL, "fingerprint_id" uuid NOT NULL, "created_by" character varying(200) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_3ae92e7f606694f07631f6368cb" PRIMARY KEY ("item_id", "fingerprint_id"))`,
    );
    await queryRunner.query(`ALTER TABLE "items" ADD "held" jsonb`);
    await queryRunner.query(`CREATE INDEX "items_held_idx" ON "items"  ("listed_at", "id") WHERE "status" = 'held'`);
    await queryRunner.query(`ALTER TABLE "items" DROP CONSTRAINT "items_status_check"`);
    await queryRunner.query(
      `ALTER TABLE "items" ADD CONSTRAINT "items_status_check" CHECK ("status" IN ('published', 'removed', 'withdrawn', 'held'))`,
    );
    await queryRunner.query(`ALTER TABLE "items" ADD CONSTRAINT "items_held_check" CHECK ("status" <> 'held' OR "held" IS NOT NULL)`);
    await queryRunner.query(
      `ALTER TABLE "content_fingerprint_bands" ADD CONSTRAINT "FK_572cc1c04e15ba4dd2c707899bf" FOREIGN KEY ("fingerprint_id") REFERENCES "content_fingerprints"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "staydown_exceptions" ADD CONSTRAINT "FK_765a9305af7e07507d0cc59febf" FOREIGN KEY ("fingerprint_id") REFERENCES "content_fingerprints"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "staydown_exceptions" DROP CONSTRAINT "FK_765a9305af7e07507d0cc59febf"`);
    await queryRunner.query(`ALTER TABLE "content_fingerprint_bands" DROP CONSTRAINT "FK_572cc1c04e15ba4dd2c707899bf"`);
    await queryRunner.query(`ALTER TABLE "items" DROP CONSTRAINT "items_held_check"`);
    await queryRunner.query(`UPDATE "items" SET "status" = 'published' WHERE "status" = 'held'`);
    await queryRunner.query(`ALTER TABLE "items" DROP CONSTRAINT "items_status_check"`);
    await queryRunner.query(
      `ALTER TABLE "items" ADD CONSTRAINT "items_status_check" CHECK ("status" IN ('published', 'removed', 'withdrawn'))`,
    );
    await queryRunner.query(`DROP INDEX "public"."items_held_idx"`);
    await queryRunner.query(`ALTER TABLE "items" DROP COLUMN "held"`);
    await queryRunner.query(`DROP TABLE "staydown_exceptions"`);
    await queryRunner.query(`DROP TABLE "content_fingerprint_bands"`);
    await queryRunner.query(`DROP INDEX "public"."content_fingerprints_raw_sha256_idx"`);
    await queryRunner.query(`DROP INDEX "public"."content_fingerprints_original_url_idx"`);
    await queryRunner.query(`DROP INDEX "public"."content_fingerprints_item_idx"`);
    await queryRunner.query(`DROP TABLE "content_fingerprints"`);
  }
}
