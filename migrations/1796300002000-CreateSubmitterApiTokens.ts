import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateSubmitterApiTokens1796300002000 implements MigrationInterface {
  name = 'CreateSubmitterApiTokens1796300002000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "submitter_api_tokens" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "submitter_id" uuid NOT NULL, "name" character varying(100) NOT NULL, "prefix" character varying(12) NOT NULL, "token_hash" character(64) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_used_at" TIMESTAMP WITH TIME ZONE, "revoked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_2d11070f92345be83884067e894" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "submitter_api_tokens_submitter_idx" ON "submitter_api_tokens"  ("submitter_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "submitter_api_tokens_hash_key" ON "submitter_api_tokens"  ("token_hash") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."submitter_api_tokens_hash_key"`);
    await queryRunner.query(`DROP INDEX "public"."submitter_api_tokens_submitter_idx"`);
    await queryRunner.query(`DROP TABLE "submitter_api_tokens"`);
  }
}
