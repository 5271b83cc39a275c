import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateSubmitters1796300000000 implements MigrationInterface {
  name = 'CreateSubmitters1796300000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "submitter_sign_in_links" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "email" character varying(254) NOT NULL, "token_hash" character(64) NOT NULL, "requested_at" TIMESTAMP WITH TIME ZONE NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "used_at" TIMESTAMP WITH TIME ZONE, "requester_ip" character varying(64), CONSTRAINT "submitter_sign_in_links_expiry_check" CHECK ("expires_at" > "requested_at"), CONSTRAINT "PK_e2c5e26b22b3eca830edd38daa8" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "submitter_sign_in_links_email_idx" ON "submitter_sign_in_links"  ("email", "requested_at") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "submitter_sign_in_links_token_key" ON "submitter_sign_in_links"  ("token_hash") `);
    await queryRunner.query(
      `CREATE TABLE "submitters" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "email" character varying(254) NOT NULL, "email_verified_at" TIMESTAMP WITH TIME ZONE NOT NULL, "name" character varying(200), "organization" character varying(200), "role" character varying(10), "rights_owners" text array NOT NULL DEFAULT '{}', "phone" character varying(40), "address" character varying(1000), "country" character(2), "trusted" boolean NOT NULL DEFAULT false, "suspended_until" TIMESTAMP WITH TIME ZONE, "suspension_reason" text, "last_signed_in_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "submitters_suspension_check" CHECK (("suspended_until" IS NULL) = ("suspension_reason" IS NULL)), CONSTRAINT "submitters_role_check" CHECK ("role" IS NULL OR "role" IN ('owner', 'agent')), CONSTRAINT "PK_f0378157ea6b30df24e48896f0a" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "submitters_email_key" ON "submitters"  ("email") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."submitters_email_key"`);
    await queryRunner.query(`DROP TABLE "submitters"`);
    await queryRunner.query(`DROP INDEX "public"."submitter_sign_in_links_token_key"`);
    await queryRunner.query(`DROP INDEX "public"."submitter_sign_in_links_email_idx"`);
    await queryRunner.query(`DROP TABLE "submitter_sign_in_links"`);
  }
}
