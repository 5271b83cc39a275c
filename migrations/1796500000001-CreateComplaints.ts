import { MigrationInterface, QueryRunner } from 'typeorm';

/** Complaints against decisions (SPEC §18, DSA Art. 20). */
export class CreateComplaints1796500000001 implements MigrationInterface {
  name = 'CreateComplaints1796500000001';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "complaints" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "notice_id" uuid NOT NULL, "complainant_kind" character varying(10) NOT NULL, "source_id" uuid, "name" character varying(200) NOT NULL, "email" character varying(254) NOT NULL, "grounds" text NOT NULL, "status" character varying(10) NOT NULL DEFAULT 'open', "decision_complained" character varying(20) NOT NULL, "decision_decided_by" uuid, "submitted_at" TIMESTAMP WITH TIME ZONE NOT NULL, "decided_at" TIMESTAMP WITH TIME ZONE, "decided_by" uuid, "outcome_reason" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "complaints_status_check" CHECK ("status" IN ('open', 'upheld', 'reversed')), CONSTRAINT "complaints_kind_check" CHECK ("complainant_kind" IN ('notifier', 'source')), CONSTRAINT "PK_complaints" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "complaints_open_idx" ON "complaints" ("submitted_at") WHERE "status" = 'open'`);
    await queryRunner.query(`CREATE INDEX "complaints_notice_idx" ON "complaints" ("notice_id") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "complaints"`);
  }
}
