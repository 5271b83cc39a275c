import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Claims with leases (issue 22, `src/db/leases.ts`) for the workers that still leased by pushing
 * `next_attempt_at` ahead: who is working on each row. Rows claimed the old way simply become due
 * when that time passes, as before.
 */
export class AddClaimsToWorkerTables1796700000000 implements MigrationInterface {
  name = 'AddClaimsToWorkerTables1796700000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "edge_purges" ADD "claimed_by" uuid`);
    await queryRunner.query(`ALTER TABLE "edge_purges" ADD "claimed_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`CREATE INDEX "edge_purges_claimed_by_idx" ON "edge_purges" ("claimed_by") WHERE "claimed_by" IS NOT NULL`);
    await queryRunner.query(`ALTER TABLE "inbound_emails" ADD "claimed_by" uuid`);
    await queryRunner.query(`ALTER TABLE "inbound_emails" ADD "claimed_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(
      `CREATE INDEX "inbound_emails_claimed_by_idx" ON "inbound_emails" ("claimed_by") WHERE "claimed_by" IS NOT NULL`,
    );
    await queryRunner.query(`ALTER TABLE "batches" ADD "claimed_by" uuid`);
    await queryRunner.query(`ALTER TABLE "batches" ADD "claimed_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`CREATE INDEX "batches_claimed_by_idx" ON "batches" ("claimed_by") WHERE "claimed_by" IS NOT NULL`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."batches_claimed_by_idx"`);
    await queryRunner.query(`ALTER TABLE "batches" DROP COLUMN "claimed_at"`);
    await queryRunner.query(`ALTER TABLE "batches" DROP COLUMN "claimed_by"`);
    await queryRunner.query(`DROP INDEX "public"."inbound_emails_claimed_by_idx"`);
    await queryRunner.query(`ALTER TABLE "inbound_emails" DROP COLUMN "claimed_at"`);
    await queryRunner.query(`ALTER TABLE "inbound_emails" DROP COLUMN "claimed_by"`);
    await queryRunner.query(`DROP INDEX "public"."edge_purges_claimed_by_idx"`);
    await queryRunner.query(`ALTER TABLE "edge_purges" DROP COLUMN "claimed_at"`);
    await queryRunner.query(`ALTER TABLE "edge_purges" DROP COLUMN "claimed_by"`);
  }
}
