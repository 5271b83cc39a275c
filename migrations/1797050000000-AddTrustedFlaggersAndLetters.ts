import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Trusted flaggers and misuse (SPEC §14, DSA Arts. 22/23): a notice records whether it came from a
 * trusted flagger (`source_type`, for its statement of reasons) and its place in the queue
 * (`queue_rank`: 0 leads, 1 is everyone else), and the queue's indexes read that order. Submitters'
 * authorisation letters (PDF) are kept in the database, one row per upload.
 */
export class AddTrustedFlaggersAndLetters1797050000000 implements MigrationInterface {
  name = 'AddTrustedFlaggersAndLetters1797050000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "notices" ADD "source_type" character varying(20) NOT NULL DEFAULT 'notice'`);
    await queryRunner.query(`ALTER TABLE "notices" ADD "queue_rank" smallint NOT NULL DEFAULT 1`);
    await queryRunner.query(
      `ALTER TABLE "notices" ADD CONSTRAINT "notices_source_type_check" CHECK ("source_type" IN ('notice', 'trusted_flagger'))`,
    );
    await queryRunner.query(`DROP INDEX "public"."notices_queue_idx"`);
    await queryRunner.query(`DROP INDEX "public"."notices_open_queue_idx"`);
    await queryRunner.query(`CREATE INDEX "notices_queue_idx" ON "notices"  ("status", "queue_rank", "due_at", "submitted_at", "id") `);
    await queryRunner.query(
      `CREATE INDEX "notices_open_queue_idx" ON "notices"  ("queue_rank", "due_at", "submitted_at", "id") WHERE "status" IN ('pending', 'in_review', 'needs_info')`,
    );
    await queryRunner.query(
      `CREATE TABLE "authorisation_letters" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "submitter_id" uuid NOT NULL, "filename" character varying(200) NOT NULL, "size" integer NOT NULL, "sha256" character(64) NOT NULL, "content" bytea NOT NULL, "uploaded_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_authorisation_letters" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "authorisation_letters_submitter_idx" ON "authorisation_letters"  ("submitter_id", "uploaded_at") `,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."authorisation_letters_submitter_idx"`);
    await queryRunner.query(`DROP TABLE "authorisation_letters"`);
    await queryRunner.query(`DROP INDEX "public"."notices_open_queue_idx"`);
    await queryRunner.query(`DROP INDEX "public"."notices_queue_idx"`);
    await queryRunner.query(`CREATE INDEX "notices_queue_idx" ON "notices"  ("status", "due_at", "submitted_at", "id") `);
    await queryRunner.query(
      `CREATE INDEX "notices_open_queue_idx" ON "notices"  ("due_at", "submitted_at", "id") WHERE "status" IN ('pending', 'in_review', 'needs_info')`,
    );
    await queryRunner.query(`ALTER TABLE "notices" DROP CONSTRAINT "notices_source_type_check"`);
    await queryRunner.query(`ALTER TABLE "notices" DROP COLUMN "queue_rank"`);
    await queryRunner.query(`ALTER TABLE "notices" DROP COLUMN "source_type"`);
  }
}
