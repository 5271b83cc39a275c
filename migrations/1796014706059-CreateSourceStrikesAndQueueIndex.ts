import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateSourceStrikesAndQueueIndex1796014706059 implements MigrationInterface {
  name = 'CreateSourceStrikesAndQueueIndex1796014706059';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "source_strikes" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "source_id" uuid NOT NULL, "notice_id" uuid NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_b8b9c008bfe8c35d72827f4fe13" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "source_strikes_source_at_idx" ON "source_strikes"  ("source_id", "at") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "source_strikes_source_notice_key" ON "source_strikes"  ("source_id", "notice_id") `);
    await queryRunner.query(
      `CREATE INDEX "notices_open_queue_idx" ON "notices"  ("due_at", "submitted_at", "id") WHERE "status" IN ('pending', 'in_review', 'needs_info')`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."notices_open_queue_idx"`);
    await queryRunner.query(`DROP INDEX "public"."source_strikes_source_notice_key"`);
    await queryRunner.query(`DROP INDEX "public"."source_strikes_source_at_idx"`);
    await queryRunner.query(`DROP TABLE "source_strikes"`);
  }
}
