import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Email as a channel (SPEC §12): the inbound mailbox (`inbound_emails`), the notice status
 * `incomplete` in the status CHECK (the list is written out here, as notice-state.ts generated it
 * at the time), and the threading of automatic replies on the outbox (`outbound_emails.thread`).
 */
export class CreateInboundEmails1796100000000 implements MigrationInterface {
  name = 'CreateInboundEmails1796100000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "inbound_emails" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "message_id" character varying(998), "from_address" character varying(320), "from_name" character varying(200), "to" text array NOT NULL DEFAULT '{}', "subject" text, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL, "way_in" character varying(10) NOT NULL, "raw" bytea NOT NULL, "size" integer NOT NULL, "sha256" character(64) NOT NULL, "envelope" jsonb NOT NULL DEFAULT '{}', "auth" jsonb NOT NULL DEFAULT '{}', "status" character varying(20) NOT NULL DEFAULT 'received', "reason" text, "notice_id" uuid, "extracted" jsonb, "attempts" integer NOT NULL DEFAULT '0', "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_error" text, "processed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "inbound_emails_way_in_check" CHECK ("way_in" IN ('smtp', 'imap', 'api')), CONSTRAINT "inbound_emails_status_check" CHECK ("status" IN ('received', 'notice_created', 'incomplete', 'reply_attached', 'ignored', 'failed')), CONSTRAINT "PK_4681d4ed00f370f44de2a1d094c" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "inbound_emails_notice_idx" ON "inbound_emails"  ("notice_id") WHERE "notice_id" IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX "inbound_emails_status_received_idx" ON "inbound_emails"  ("status", "received_at", "id") `);
    await queryRunner.query(`CREATE INDEX "inbound_emails_received_idx" ON "inbound_emails"  ("received_at", "id") `);
    await queryRunner.query(`CREATE INDEX "inbound_emails_due_idx" ON "inbound_emails"  ("next_attempt_at") WHERE "status" = 'received'`);
    await queryRunner.query(`CREATE UNIQUE INDEX "inbound_emails_sha256_key" ON "inbound_emails"  ("sha256") `);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "inbound_emails_message_id_key" ON "inbound_emails"  ("message_id") WHERE "message_id" IS NOT NULL`,
    );
    await queryRunner.query(`ALTER TABLE "notices" DROP CONSTRAINT "notices_status_check"`);
    await queryRunner.query(
      `ALTER TABLE "notices" ADD CONSTRAINT "notices_status_check" CHECK ("status" IN ('unverified', 'pending', 'in_review', 'needs_info', 'approved', 'countered', 'rejected', 'withdrawn', 'spam', 'restored', 'upheld', 'incomplete'))`,
    );
    await queryRunner.query(`ALTER TABLE "outbound_emails" ADD "thread" jsonb`);
    await queryRunner.query(
      `CREATE INDEX "outbound_emails_threaded_to_idx" ON "outbound_emails"  ("to", "created_at") WHERE "thread" IS NOT NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."outbound_emails_threaded_to_idx"`);
    await queryRunner.query(`ALTER TABLE "outbound_emails" DROP COLUMN "thread"`);
    await queryRunner.query(`DROP INDEX "public"."inbound_emails_message_id_key"`);
    await queryRunner.query(`DROP INDEX "public"."inbound_emails_sha256_key"`);
    await queryRunner.query(`DROP INDEX "public"."inbound_emails_due_idx"`);
    await queryRunner.query(`DROP INDEX "public"."inbound_emails_received_idx"`);
    await queryRunner.query(`DROP INDEX "public"."inbound_emails_status_received_idx"`);
    await queryRunner.query(`DROP INDEX "public"."inbound_emails_notice_idx"`);
    await queryRunner.query(`DROP TABLE "inbound_emails"`);
    await queryRunner.query(`ALTER TABLE "notices" DROP CONSTRAINT "notices_status_check"`);
    await queryRunner.query(
      `ALTER TABLE "notices" ADD CONSTRAINT "notices_status_check" CHECK ("status" IN ('unverified', 'pending', 'in_review', 'needs_info', 'approved', 'countered', 'rejected', 'withdrawn', 'spam', 'restored', 'upheld'))`,
    );
  }
}
