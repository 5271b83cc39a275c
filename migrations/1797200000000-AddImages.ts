import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Images (issue 20, SPEC §19): `item_images` (items module: each item's images, fetched and hashed
 * by the image worker under the shared leases), `image_fingerprints` (staydown module: the image
 * side of the bank), and `notice_targets.image_id` (a target that names one image).
 */
export class AddImages1797200000000 implements MigrationInterface {
  name = 'AddImages1797200000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "item_images" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "item_id" uuid NOT NULL, "position" integer NOT NULL, "url" character varying(2048) NOT NULL, "url_normalised" character varying(2048) NOT NULL, "alt" character varying(1000) NOT NULL DEFAULT '', "fetch_status" character varying(10) NOT NULL DEFAULT 'pending', "attempts" integer NOT NULL DEFAULT '0', "next_attempt_at" TIMESTAMP WITH TIME ZONE, "fetch_error" character varying(500), "fetched_at" TIMESTAMP WITH TIME ZONE, "sha256" character(64), "phash" bigint, "format" character varying(10), "width" integer, "height" integer, "thumbnail" bytea, "status" character varying(10) NOT NULL DEFAULT 'shown', "removed_at" TIMESTAMP WITH TIME ZONE, "removed_by_notice_id" uuid, "removal" jsonb, "released_from" uuid array NOT NULL DEFAULT '{}', "claimed_by" uuid, "claimed_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "item_images_removed_check" CHECK ("status" <> 'removed' OR "removal" IS NOT NULL), CONSTRAINT "item_images_status_check" CHECK ("status" IN ('shown', 'removed')), CONSTRAINT "item_images_fetch_status_check" CHECK ("fetch_status" IN ('pending', 'fetched', 'failed')), CONSTRAINT "PK_454e093846e50cf1ddca3522035" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "item_images_removed_by_notice_idx" ON "item_images"  ("removed_by_notice_id") WHERE "removed_by_notice_id" IS NOT NULL`,
    );
    await queryRunner.query(`CREATE INDEX "item_images_claimed_by_idx" ON "item_images"  ("claimed_by") WHERE "claimed_by" IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX "item_images_due_idx" ON "item_images"  ("next_attempt_at") WHERE "fetch_status" = 'pending'`);
    await queryRunner.query(`CREATE INDEX "item_images_url_idx" ON "item_images"  ("url_normalised") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "item_images_item_url_key" ON "item_images"  ("item_id", "url_normalised") `);
    await queryRunner.query(
      `CREATE TABLE "image_fingerprints" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "image_id" uuid NOT NULL, "item_id" uuid NOT NULL, "notice_id" uuid NOT NULL, "removal" jsonb NOT NULL, "phash" bigint NOT NULL, "sha256" character(64) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "retired_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_8c28c1953cb4807a36b0ba34d63" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "image_fingerprints_live_idx" ON "image_fingerprints"  ("phash") WHERE "retired_at" IS NULL`);
    await queryRunner.query(`CREATE INDEX "image_fingerprints_image_idx" ON "image_fingerprints"  ("image_id") `);
    await queryRunner.query(`ALTER TABLE "notice_targets" ADD "image_id" uuid`);
    await queryRunner.query(
      `ALTER TABLE "item_images" ADD CONSTRAINT "FK_9c2c7fb12650a18c61f758cdfb8" FOREIGN KEY ("item_id") REFERENCES "items"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "item_images" DROP CONSTRAINT "FK_9c2c7fb12650a18c61f758cdfb8"`);
    await queryRunner.query(`ALTER TABLE "notice_targets" DROP COLUMN "image_id"`);
    await queryRunner.query(`DROP INDEX "public"."image_fingerprints_image_idx"`);
    await queryRunner.query(`DROP INDEX "public"."image_fingerprints_live_idx"`);
    await queryRunner.query(`DROP TABLE "image_fingerprints"`);
    await queryRunner.query(`DROP INDEX "public"."item_images_item_url_key"`);
    await queryRunner.query(`DROP INDEX "public"."item_images_url_idx"`);
    await queryRunner.query(`DROP INDEX "public"."item_images_due_idx"`);
    await queryRunner.query(`DROP INDEX "public"."item_images_claimed_by_idx"`);
    await queryRunner.query(`DROP INDEX "public"."item_images_removed_by_notice_idx"`);
    await queryRunner.query(`DROP TABLE "item_images"`);
  }
}
