import { MigrationInterface, QueryRunner } from 'typeorm';

export class AddStandingStatements1796300001000 implements MigrationInterface {
  name = 'AddStandingStatements1796300001000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "standing_statements" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "submitter_id" uuid NOT NULL, "version" integer NOT NULL, "good_faith_statement" text NOT NULL, "accuracy_statement" text NOT NULL, "signature" character varying(200) NOT NULL, "made_at" TIMESTAMP WITH TIME ZONE NOT NULL, "withdrawn_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_4f77d2699f5e543790239c0affe" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "standing_statements_version_key" ON "standing_statements"  ("submitter_id", "version") `);
    await queryRunner.query(`ALTER TABLE "notices" ADD "statements_source" character varying(10) NOT NULL DEFAULT 'notice'`);
    await queryRunner.query(`ALTER TABLE "notices" ADD "standing_statements_id" uuid`);
    await queryRunner.query(
      `ALTER TABLE "notices" ADD CONSTRAINT "notices_statements_source_check" CHECK ("statements_source" IN ('notice', 'standing'))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "notices" DROP CONSTRAINT "notices_statements_source_check"`);
    await queryRunner.query(`ALTER TABLE "notices" DROP COLUMN "standing_statements_id"`);
    await queryRunner.query(`ALTER TABLE "notices" DROP COLUMN "statements_source"`);
    await queryRunner.query(`DROP INDEX "public"."standing_statements_version_key"`);
    await queryRunner.query(`DROP TABLE "standing_statements"`);
  }
}
