import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The team dashboard (issue 16, `/dashboard`) reads the last 30 days of decisions: per moderator
 * per day, and the median and 90th percentile of the time to decision. This index keeps those
 * reads to the window's rows with a million notices in the table.
 */
export class AddNoticesDecidedIndex1796900000000 implements MigrationInterface {
  name = 'AddNoticesDecidedIndex1796900000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "notices_decided_idx" ON "notices" ("decided_at", "decided_by", "submitted_at", "decision") WHERE "decided_at" IS NOT NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "notices_decided_idx"`);
  }
}
