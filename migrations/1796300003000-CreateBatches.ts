import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateBatches1796300003000 implements MigrationInterface {
  name = 'CreateBatches1796300003000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "batches" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "submitter_id" uuid NOT NULL, "status" character varying(12) NOT NULL DEFAULT 'queued', "works" integer NOT NULL, "urls" integer NOT NULL, "processed" integer NOT NULL DEFAULT '0', "errors" jsonb NOT NULL DEFAULT '[]', "format" character varying(10) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "started_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE, "claimed_until" TIMESTAMP WITH TIME ZONE, "attempts" integer NOT NULL DEFAULT '0', "last_error" text, CONSTRAINT "batches_status_check" CHECK ("status" IN ('queued', 'processing', 'done', 'failed')), CONSTRAINT "PK_55e7ff646e969b61d37eea5be7a" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "batches_submitter_idx" ON "batches"  ("submitter_id", "created_at") `);
    await queryRunner.query(`CREATE INDEX "batches_due_idx" ON "batches"  ("created_at") WHERE "status" IN ('queued', 'processing')`);
    await queryRunner.query(
      `CREATE TABLE "batch_works" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "batch_id" uuid NOT NULL, "position" integer NOT NULL, "row" integer NOT NULL, "description" text NOT NULL, "original_urls" text array NOT NULL DEFAULT '{}', "infringing_urls" text array NOT NULL, "notice_id" uuid, "notice_reference" character varying(20), "error" text, CONSTRAINT "PK_cd53fc1689310a6a1eb08686e8e" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "batch_works_position_key" ON "batch_works"  ("batch_id", "position") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."batch_works_position_key"`);
    await queryRunner.query(`DROP TABLE "batch_works"`);
    await queryRunner.query(`DROP INDEX "public"."batches_due_idx"`);
    await queryRunner.query(`DROP INDEX "public"."batches_submitter_idx"`);
    await queryRunner.query(`DROP TABLE "batches"`);
  }
}
