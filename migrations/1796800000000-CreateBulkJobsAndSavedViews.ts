import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Moderators at speed (issue 16, SPEC §15): bulk decisions as durable jobs (`bulk_jobs`, claimed through
 * `src/db/leases.ts`; one `bulk_job_items` row per notice with its result) and saved queue views.
 */
export class CreateBulkJobsAndSavedViews1796800000000 implements MigrationInterface {
  name = 'CreateBulkJobsAndSavedViews1796800000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "bulk_jobs" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "action" character varying(10) NOT NULL, "status" character varying(12) NOT NULL DEFAULT 'queued', "actor_id" uuid NOT NULL, "actor" jsonb NOT NULL, "params" jsonb NOT NULL DEFAULT '{}', "filter" jsonb, "total" integer NOT NULL, "ip" character varying(64), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "started_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE, "attempts" integer NOT NULL DEFAULT '0', "last_error" text, "claimed_by" uuid, "claimed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "bulk_jobs_action_check" CHECK ("action" IN ('claim', 'release', 'assign', 'reject', 'spam', 'approve')), CONSTRAINT "bulk_jobs_status_check" CHECK ("status" IN ('queued', 'running', 'done', 'failed')), CONSTRAINT "PK_ce068dac8365125a4ce2f94c23e" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "bulk_jobs_claimed_by_idx" ON "bulk_jobs"  ("claimed_by") WHERE "claimed_by" IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX "bulk_jobs_due_idx" ON "bulk_jobs"  ("created_at") WHERE "status" IN ('queued', 'running')`);
    await queryRunner.query(
      `CREATE TABLE "bulk_job_items" ("job_id" uuid NOT NULL, "position" integer NOT NULL, "reference" character varying(20) NOT NULL, "ok" boolean, "error" text, "code" character varying(60), "by_label" character varying(320), "done_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_dace7588856561c3fe3c94224cd" PRIMARY KEY ("job_id", "position"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "saved_views" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "user_id" uuid NOT NULL, "name" character varying(80) NOT NULL, "filter" jsonb NOT NULL DEFAULT '{}', "is_default" boolean NOT NULL DEFAULT false, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_30acd4fbe2058d97631ab9bb2b6" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "saved_views_default_key" ON "saved_views"  ("user_id") WHERE "is_default"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "saved_views_name_key" ON "saved_views"  ("user_id", "name") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."saved_views_name_key"`);
    await queryRunner.query(`DROP INDEX "public"."saved_views_default_key"`);
    await queryRunner.query(`DROP TABLE "saved_views"`);
    await queryRunner.query(`DROP TABLE "bulk_job_items"`);
    await queryRunner.query(`DROP INDEX "public"."bulk_jobs_due_idx"`);
    await queryRunner.query(`DROP INDEX "public"."bulk_jobs_claimed_by_idx"`);
    await queryRunner.query(`DROP TABLE "bulk_jobs"`);
  }
}
