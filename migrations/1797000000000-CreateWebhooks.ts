import { MigrationInterface, QueryRunner } from 'typeorm';

/** Webhooks (SPEC §14): submitters' receivers and their delivery outbox. */
export class CreateWebhooks1797000000000 implements MigrationInterface {
  name = 'CreateWebhooks1797000000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "webhooks" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "submitter_id" uuid NOT NULL, "url" character varying(2000) NOT NULL, "events" text array NOT NULL, "secret_sealed" text NOT NULL, "secret_prefix" character varying(16) NOT NULL, "status" character varying(10) NOT NULL DEFAULT 'active', "consecutive_failures" integer NOT NULL DEFAULT '0', "last_status_code" integer, "last_attempt_at" TIMESTAMP WITH TIME ZONE, "disabled_at" TIMESTAMP WITH TIME ZONE, "disabled_reason" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "webhooks_events_check" CHECK (cardinality("events") > 0), CONSTRAINT "webhooks_status_check" CHECK ("status" IN ('active', 'disabled')), CONSTRAINT "PK_9e8795cfc899ab7bdaa831e8527" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "webhooks_submitter_idx" ON "webhooks"  ("submitter_id") `);
    await queryRunner.query(
      `CREATE TABLE "webhook_deliveries" ("id" BIGSERIAL NOT NULL, "webhook_id" uuid NOT NULL, "event_id" uuid NOT NULL, "event_type" character varying(40) NOT NULL, "ordering_key" character varying(100) NOT NULL, "body" text NOT NULL, "status" character varying(10) NOT NULL DEFAULT 'pending', "attempts" integer NOT NULL DEFAULT '0', "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "last_attempt_at" TIMESTAMP WITH TIME ZONE, "last_status_code" integer, "last_error" text, "delivered_at" TIMESTAMP WITH TIME ZONE, "claimed_by" uuid, "claimed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "webhook_deliveries_status_check" CHECK ("status" IN ('pending', 'delivered', 'failed')), CONSTRAINT "PK_535dd409947fb6d8fc6dfc0112a" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "webhook_deliveries_claimed_by_idx" ON "webhook_deliveries"  ("claimed_by") WHERE "claimed_by" IS NOT NULL`,
    );
    await queryRunner.query(`CREATE INDEX "webhook_deliveries_log_idx" ON "webhook_deliveries"  ("webhook_id", "id") `);
    await queryRunner.query(
      `CREATE INDEX "webhook_deliveries_order_idx" ON "webhook_deliveries"  ("webhook_id", "ordering_key", "id") WHERE "status" = 'pending'`,
    );
    await queryRunner.query(
      `CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries"  ("next_attempt_at") WHERE "status" = 'pending'`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."webhook_deliveries_due_idx"`);
    await queryRunner.query(`DROP INDEX "public"."webhook_deliveries_order_idx"`);
    await queryRunner.query(`DROP INDEX "public"."webhook_deliveries_log_idx"`);
    await queryRunner.query(`DROP INDEX "public"."webhook_deliveries_claimed_by_idx"`);
    await queryRunner.query(`DROP TABLE "webhook_deliveries"`);
    await queryRunner.query(`DROP INDEX "public"."webhooks_submitter_idx"`);
    await queryRunner.query(`DROP TABLE "webhooks"`);
  }
}
