import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateOutboundEmails1796012015825 implements MigrationInterface {
  name = 'CreateOutboundEmails1796012015825';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "outbound_emails" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "to" character varying(254) NOT NULL, "template" character varying(100) NOT NULL, "data" jsonb NOT NULL DEFAULT '{}', "status" character varying(10) NOT NULL DEFAULT 'queued', "attempts" integer NOT NULL DEFAULT '0', "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_error" text, "provider_message_id" character varying(500), "notice_id" uuid, "dedupe_key" character varying(200), "reply_to" character varying(254), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "sent_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "outbound_emails_reply_to_check" CHECK ("reply_to" IS NULL OR ("reply_to" !~ '[\\r\\n]' AND "reply_to" LIKE '%_@_%')), CONSTRAINT "outbound_emails_to_check" CHECK ("to" !~ '[\\r\\n]' AND "to" LIKE '%_@_%'), CONSTRAINT "outbound_emails_sent_at_check" CHECK ("status" <> 'sent' OR "sent_at" IS NOT NULL), CONSTRAINT "outbound_emails_attempts_check" CHECK ("attempts" >= 0), CONSTRAINT "outbound_emails_status_check" CHECK ("status" IN ('queued', 'sent', 'failed')), CONSTRAINT "PK_d07cd54ab4e5dd921ff509203ae" PRIMARY KEY ("id"))`,
    );
    // Reviewed by hand: the CHECKs come from @Check on the entity (so the drift check stays clean); the
    // regex is written with escaped backslashes so PostgreSQL, not JavaScript, reads \r and \n. The
    // partial due-index holds only queued rows, so the worker's claim stays fast however many emails
    // were sent; NULL dedupe keys never collide in the unique index.
    await queryRunner.query(`CREATE UNIQUE INDEX "outbound_emails_dedupe_key" ON "outbound_emails"  ("dedupe_key") `);
    await queryRunner.query(`CREATE INDEX "outbound_emails_notice_idx" ON "outbound_emails"  ("notice_id") WHERE "notice_id" IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX "outbound_emails_created_idx" ON "outbound_emails"  ("created_at", "id") `);
    await queryRunner.query(`CREATE INDEX "outbound_emails_status_created_idx" ON "outbound_emails"  ("status", "created_at", "id") `);
    await queryRunner.query(`CREATE INDEX "outbound_emails_due_idx" ON "outbound_emails"  ("next_attempt_at") WHERE "status" = 'queued'`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."outbound_emails_due_idx"`);
    await queryRunner.query(`DROP INDEX "public"."outbound_emails_status_created_idx"`);
    await queryRunner.query(`DROP INDEX "public"."outbound_emails_created_idx"`);
    await queryRunner.query(`DROP INDEX "public"."outbound_emails_notice_idx"`);
    await queryRunner.query(`DROP INDEX "public"."outbound_emails_dedupe_key"`);
    await queryRunner.query(`DROP TABLE "outbound_emails"`);
  }
}
