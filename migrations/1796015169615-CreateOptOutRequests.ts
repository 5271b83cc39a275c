import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateOptOutRequests1796015169615 implements MigrationInterface {
  name = 'CreateOptOutRequests1796015169615';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "opt_out_requests" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "domain" character varying(253) NOT NULL, "source_ids" uuid array NOT NULL, "email" character varying(254) NOT NULL, "token_hash" character(64) NOT NULL, "requested_at" TIMESTAMP WITH TIME ZONE NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "confirmed_at" TIMESTAMP WITH TIME ZONE, "requester_ip" character varying(64), CONSTRAINT "opt_out_requests_expiry_check" CHECK ("expires_at" > "requested_at"), CONSTRAINT "PK_bc73acd7a4f71ecaaf198c31c63" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "opt_out_requests_requested_idx" ON "opt_out_requests"  ("requested_at") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "opt_out_requests_token_key" ON "opt_out_requests"  ("token_hash") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."opt_out_requests_token_key"`);
    await queryRunner.query(`DROP INDEX "public"."opt_out_requests_requested_idx"`);
    await queryRunner.query(`DROP TABLE "opt_out_requests"`);
  }
}
