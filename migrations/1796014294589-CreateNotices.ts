import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateNotices1796014294589 implements MigrationInterface {
  name = 'CreateNotices1796014294589';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "notices" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "reference" character varying(20) NOT NULL, "status" character varying(20) NOT NULL, "claim_type" character varying(20) NOT NULL DEFAULT 'copyright', "name" character varying(200) NOT NULL, "organization" character varying(200), "email" character varying(254) NOT NULL, "phone" character varying(40), "address" character varying(1000) NOT NULL, "country" character(2) NOT NULL, "role" character varying(10) NOT NULL, "rights_owner" character varying(200), "work_description" text NOT NULL, "original_urls" text array NOT NULL DEFAULT '{}', "work_published_at" date, "good_faith_statement" text NOT NULL, "accuracy_statement" text NOT NULL, "statements_at" TIMESTAMP WITH TIME ZONE NOT NULL, "signature" character varying(200) NOT NULL, "submitted_at" TIMESTAMP WITH TIME ZONE NOT NULL, "channel" character varying(10) NOT NULL, "submitter_ip" character varying(64), "status_token_hash" character(64) NOT NULL, "email_verified_at" TIMESTAMP WITH TIME ZONE, "flags" jsonb NOT NULL DEFAULT '[]', "queued_at" TIMESTAMP WITH TIME ZONE, "due_at" TIMESTAMP WITH TIME ZONE, "assignee_id" uuid, "decision" character varying(20), "decision_reason" text, "decided_at" TIMESTAMP WITH TIME ZONE, "decided_by" uuid, "statement_of_reasons" jsonb, "info_request" jsonb, "internal_notes" jsonb NOT NULL DEFAULT '[]', "version" integer NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_d1ef1b3604828bbef7cd7a8133d" UNIQUE ("reference"), CONSTRAINT "notices_claim_type_check" CHECK ("claim_type" IN ('copyright', 'trademark', 'defamation', 'privacy', 'other')), CONSTRAINT "notices_role_check" CHECK ("role" IN ('owner', 'agent')), CONSTRAINT "notices_channel_check" CHECK ("channel" IN ('form', 'api', 'email')), CONSTRAINT "notices_status_check" CHECK ("status" IN ('unverified', 'pending', 'in_review', 'needs_info', 'approved', 'countered', 'rejected', 'withdrawn', 'spam', 'restored', 'upheld')), CONSTRAINT "PK_3eb18c29da25d6935fcbe584237" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "notices_assignee_idx" ON "notices"  ("assignee_id", "status") `);
    await queryRunner.query(`CREATE INDEX "notices_ip_submitted_idx" ON "notices"  ("submitter_ip", "submitted_at") `);
    await queryRunner.query(`CREATE INDEX "notices_email_submitted_idx" ON "notices"  ("email", "submitted_at") `);
    await queryRunner.query(`CREATE INDEX "notices_queue_idx" ON "notices"  ("status", "due_at", "submitted_at", "id") `);
    await queryRunner.query(
      `CREATE TABLE "notice_targets" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "notice_id" uuid NOT NULL, "position" integer NOT NULL, "url" character varying(2048) NOT NULL, "normalised_url" character varying(2048) NOT NULL, "item_id" uuid, "outcome" character varying(20) NOT NULL, CONSTRAINT "notice_targets_outcome_check" CHECK ("outcome" IN ('pending', 'removed', 'kept', 'not_found', 'restored')), CONSTRAINT "PK_47df02d284f7ff0f0cec3422290" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "notice_targets_item_idx" ON "notice_targets"  ("item_id") `);
    await queryRunner.query(`CREATE INDEX "notice_targets_normalised_idx" ON "notice_targets"  ("normalised_url") `);
    await queryRunner.query(`CREATE INDEX "notice_targets_notice_idx" ON "notice_targets"  ("notice_id", "position") `);
    await queryRunner.query(
      `ALTER TABLE "notice_targets" ADD CONSTRAINT "FK_b305743a5bb0b5e82a86f5e44e6" FOREIGN KEY ("notice_id") REFERENCES "notices"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "notice_targets" ADD CONSTRAINT "FK_7609ebe032eb175b09130ffa4f9" FOREIGN KEY ("item_id") REFERENCES "items"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    // Hand-written: the reference sequence (TD- + zero-padded number) and API idempotency keys.
    await queryRunner.query(`CREATE SEQUENCE "notice_reference_seq" START 1`);
    await queryRunner.query(
      `CREATE TABLE "idempotency_keys" ("scope" varchar(20) NOT NULL, "key" varchar(200) NOT NULL, "fingerprint" char(64) NOT NULL, "response" text, "created_at" timestamptz NOT NULL, CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("scope", "key"))`,
    );
    await queryRunner.query(`CREATE INDEX "idempotency_keys_created_idx" ON "idempotency_keys" ("created_at")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "idempotency_keys"`);
    await queryRunner.query(`DROP SEQUENCE "notice_reference_seq"`);
    await queryRunner.query(`ALTER TABLE "notice_targets" DROP CONSTRAINT "FK_7609ebe032eb175b09130ffa4f9"`);
    await queryRunner.query(`ALTER TABLE "notice_targets" DROP CONSTRAINT "FK_b305743a5bb0b5e82a86f5e44e6"`);
    await queryRunner.query(`DROP INDEX "public"."notice_targets_notice_idx"`);
    await queryRunner.query(`DROP INDEX "public"."notice_targets_normalised_idx"`);
    await queryRunner.query(`DROP INDEX "public"."notice_targets_item_idx"`);
    await queryRunner.query(`DROP TABLE "notice_targets"`);
    await queryRunner.query(`DROP INDEX "public"."notices_queue_idx"`);
    await queryRunner.query(`DROP INDEX "public"."notices_email_submitted_idx"`);
    await queryRunner.query(`DROP INDEX "public"."notices_ip_submitted_idx"`);
    await queryRunner.query(`DROP INDEX "public"."notices_assignee_idx"`);
    await queryRunner.query(`DROP TABLE "notices"`);
  }
}
