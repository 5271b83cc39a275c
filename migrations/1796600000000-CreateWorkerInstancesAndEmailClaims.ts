import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Claims with leases (issue 22, `src/db/leases.ts`): the registry of live processes, and who is
 * sending each email. Rows claimed under the old 5-minute `next_attempt_at` lease simply become due
 * when it ends, as before.
 */
export class CreateWorkerInstancesAndEmailClaims1796600000000 implements MigrationInterface {
  name = 'CreateWorkerInstancesAndEmailClaims1796600000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "worker_instances" ("id" uuid NOT NULL, "name" character varying(100) NOT NULL, "host" character varying(255) NOT NULL, "pid" integer NOT NULL, "started_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "heartbeat_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_dfea42c425ae86267dbe46abf46" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`ALTER TABLE "outbound_emails" ADD "claimed_by" uuid`);
    await queryRunner.query(`ALTER TABLE "outbound_emails" ADD "claimed_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(
      `CREATE INDEX "outbound_emails_claimed_by_idx" ON "outbound_emails" ("claimed_by") WHERE "claimed_by" IS NOT NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."outbound_emails_claimed_by_idx"`);
    await queryRunner.query(`ALTER TABLE "outbound_emails" DROP COLUMN "claimed_at"`);
    await queryRunner.query(`ALTER TABLE "outbound_emails" DROP COLUMN "claimed_by"`);
    await queryRunner.query(`DROP TABLE "worker_instances"`);
  }
}
