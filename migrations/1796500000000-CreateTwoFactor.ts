import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Staff second factor (SPEC §17): one TOTP credential per user (the key sealed with a key derived
 * from SESSION_SECRET; the last accepted time step, so a code is used once), and ten recovery codes
 * (argon2id hashes, each usable once).
 */
export class CreateTwoFactor1796500000000 implements MigrationInterface {
  name = 'CreateTwoFactor1796500000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "totp_credentials" ("user_id" uuid NOT NULL, "secret_sealed" text NOT NULL, "confirmed_at" TIMESTAMP WITH TIME ZONE, "last_used_step" bigint, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_totp_credentials_user_id" PRIMARY KEY ("user_id"))`,
    );
    await queryRunner.query(
      `ALTER TABLE "totp_credentials" ADD CONSTRAINT "FK_e7500eeafa3a0dcb09090965589" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `CREATE TABLE "recovery_codes" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "user_id" uuid NOT NULL, "code_hash" text NOT NULL, "used_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_recovery_codes_id" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "recovery_codes_user_idx" ON "recovery_codes" ("user_id") `);
    await queryRunner.query(
      `ALTER TABLE "recovery_codes" ADD CONSTRAINT "FK_fb82b2ac740ca095b617afad031" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "recovery_codes"`);
    await queryRunner.query(`DROP TABLE "totp_credentials"`);
  }
}
