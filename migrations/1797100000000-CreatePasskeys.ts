import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Passkeys (SPEC §17): WebAuthn credentials as a second factor, several per member (the public key,
 * the signature counter), and the challenges handed out for each ceremony (single-use, expiring).
 */
export class CreatePasskeys1797100000000 implements MigrationInterface {
  name = 'CreatePasskeys1797100000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "passkeys" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "user_id" uuid NOT NULL, "credential_id" text NOT NULL, "public_key" bytea NOT NULL, "counter" bigint NOT NULL DEFAULT '0', "transports" jsonb NOT NULL DEFAULT '[]', "name" text NOT NULL, "backed_up" boolean NOT NULL DEFAULT false, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_used_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_db928e6fd79e7098911268a74c3" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "passkeys_credential_id_key" ON "passkeys"  ("credential_id") `);
    await queryRunner.query(`CREATE INDEX "passkeys_user_idx" ON "passkeys"  ("user_id") `);
    await queryRunner.query(
      `CREATE TABLE "webauthn_challenges" ("challenge" text NOT NULL, "user_id" uuid, "purpose" text NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_03a1fd625909713af1fa0b33f3e" PRIMARY KEY ("challenge"))`,
    );
    await queryRunner.query(`CREATE INDEX "webauthn_challenges_expires_idx" ON "webauthn_challenges"  ("expires_at") `);
    await queryRunner.query(
      `ALTER TABLE "passkeys" ADD CONSTRAINT "FK_02227b9a8a34a808e3e23800b00" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "webauthn_challenges" ADD CONSTRAINT "FK_0dcc679b1d27e0a3927a37798a9" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "webauthn_challenges" DROP CONSTRAINT "FK_0dcc679b1d27e0a3927a37798a9"`);
    await queryRunner.query(`ALTER TABLE "passkeys" DROP CONSTRAINT "FK_02227b9a8a34a808e3e23800b00"`);
    await queryRunner.query(`DROP INDEX "public"."webauthn_challenges_expires_idx"`);
    await queryRunner.query(`DROP TABLE "webauthn_challenges"`);
    await queryRunner.query(`DROP INDEX "public"."passkeys_user_idx"`);
    await queryRunner.query(`DROP INDEX "public"."passkeys_credential_id_key"`);
    await queryRunner.query(`DROP TABLE "passkeys"`);
  }
}
