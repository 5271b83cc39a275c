import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateStaffAndAudit1796011105754 implements MigrationInterface {
  name = 'CreateStaffAndAudit1796011105754';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "audit_events" ("id" BIGSERIAL NOT NULL, "sequence" bigint, "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL, "actor_type" character varying(10) NOT NULL, "actor_id" uuid, "actor_label" character varying(320) NOT NULL, "action" character varying(80) NOT NULL, "subject_type" character varying(40), "subject_id" character varying(200), "details" jsonb NOT NULL DEFAULT '{}', "ip" character varying(64), "request_id" character varying(64), "prev_hash" character(64), "hash" character(64), CONSTRAINT "PK_910f64d901a5c3e9878f0d4a407" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "audit_events_sequence_key" ON "audit_events"  ("sequence") `);
    await queryRunner.query(`CREATE INDEX "audit_events_occurred_at_idx" ON "audit_events"  ("occurred_at") `);
    await queryRunner.query(`CREATE INDEX "audit_events_actor_idx" ON "audit_events"  ("actor_id", "id") `);
    await queryRunner.query(`CREATE INDEX "audit_events_subject_idx" ON "audit_events"  ("subject_type", "subject_id", "id") `);
    await queryRunner.query(`CREATE INDEX "audit_events_action_idx" ON "audit_events"  ("action", "id") `);
    await queryRunner.query(
      `CREATE TABLE "users" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "email" character varying(254) NOT NULL, "name" character varying(200) NOT NULL, "role" character varying(20) NOT NULL, "password_hash" text NOT NULL, "active" boolean NOT NULL DEFAULT true, "must_change_password" boolean NOT NULL DEFAULT false, "failed_logins" integer NOT NULL DEFAULT '0', "locked_until" TIMESTAMP WITH TIME ZONE, "last_login_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_97672ac88f789774dd47f7c8be3" UNIQUE ("email"), CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "api_tokens" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "user_id" uuid NOT NULL, "name" character varying(100) NOT NULL, "prefix" character varying(16) NOT NULL, "token_hash" character(64) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_used_at" TIMESTAMP WITH TIME ZONE, "revoked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "UQ_bbd687a104e1921e6702c6e3aad" UNIQUE ("token_hash"), CONSTRAINT "PK_c587455266b5fa8dace7194caac" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "api_tokens_user_idx" ON "api_tokens"  ("user_id") `);
    await queryRunner.query(
      `ALTER TABLE "api_tokens" ADD CONSTRAINT "FK_b74883f5884a42fd8496d389b25" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    // Hand-written below: constraints, the append-only guard, and tables owned by libraries.
    await queryRunner.query(`ALTER TABLE "users" ADD CONSTRAINT "users_role_check" CHECK ("role" IN ('admin', 'moderator'))`);
    await queryRunner.query(`ALTER TABLE "users" ADD CONSTRAINT "users_email_lower_check" CHECK ("email" = lower("email"))`);
    await queryRunner.query(
      `ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_actor_type_check" CHECK ("actor_type" IN ('user', 'public', 'system'))`,
    );
    await queryRunner.query(`CREATE INDEX "audit_events_unsealed_idx" ON "audit_events" ("id") WHERE "hash" IS NULL`);
    // Append-only, enforced by the database: new rows arrive unsealed; the sealer may set
    // sequence/prev_hash/hash once; nothing else may ever change or disappear.
    await queryRunner.query(`
      CREATE FUNCTION audit_events_guard() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          IF NEW.sequence IS NOT NULL OR NEW.hash IS NOT NULL OR NEW.prev_hash IS NOT NULL THEN
            RAISE EXCEPTION 'audit_events: new events arrive unsealed' USING ERRCODE = 'insufficient_privilege';
          END IF;
          RETURN NEW;
        END IF;
        IF TG_OP = 'UPDATE' THEN
          IF OLD.hash IS NULL AND OLD.sequence IS NULL AND OLD.prev_hash IS NULL
             AND NEW.hash IS NOT NULL AND NEW.sequence IS NOT NULL AND NEW.prev_hash IS NOT NULL
             AND (NEW.id, NEW.occurred_at, NEW.actor_type, NEW.actor_id, NEW.actor_label, NEW.action,
                  NEW.subject_type, NEW.subject_id, NEW.details, NEW.ip, NEW.request_id)
                 IS NOT DISTINCT FROM
                 (OLD.id, OLD.occurred_at, OLD.actor_type, OLD.actor_id, OLD.actor_label, OLD.action,
                  OLD.subject_type, OLD.subject_id, OLD.details, OLD.ip, OLD.request_id) THEN
            RETURN NEW; -- sealing, once
          END IF;
        END IF;
        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END
      $fn$`);
    await queryRunner.query(
      `CREATE TRIGGER "audit_events_append_only" BEFORE INSERT OR UPDATE OR DELETE ON "audit_events" FOR EACH ROW EXECUTE FUNCTION audit_events_guard()`,
    );
    await queryRunner.query(
      `CREATE TRIGGER "audit_events_no_truncate" BEFORE TRUNCATE ON "audit_events" FOR EACH STATEMENT EXECUTE FUNCTION audit_events_guard()`,
    );
    // Staff sessions (connect-pg-simple's schema).
    await queryRunner.query(
      `CREATE TABLE "sessions" ("sid" varchar NOT NULL COLLATE "default", "sess" json NOT NULL, "expire" timestamp(6) NOT NULL, CONSTRAINT "sessions_pkey" PRIMARY KEY ("sid"))`,
    );
    await queryRunner.query(`CREATE INDEX "sessions_expire_idx" ON "sessions" ("expire")`);
    // Rate-limit counters shared by every instance (rate-limiter-flexible's schema).
    await queryRunner.query(
      `CREATE TABLE "rate_limits" ("key" varchar(255) PRIMARY KEY, "points" integer NOT NULL DEFAULT 0, "expire" bigint)`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "rate_limits"`);
    await queryRunner.query(`DROP TABLE "sessions"`);
    await queryRunner.query(`DROP TRIGGER "audit_events_no_truncate" ON "audit_events"`);
    await queryRunner.query(`DROP TRIGGER "audit_events_append_only" ON "audit_events"`);
    await queryRunner.query(`DROP FUNCTION audit_events_guard()`);
    await queryRunner.query(`ALTER TABLE "api_tokens" DROP CONSTRAINT "FK_b74883f5884a42fd8496d389b25"`);
    await queryRunner.query(`DROP INDEX "public"."api_tokens_user_idx"`);
    await queryRunner.query(`DROP TABLE "api_tokens"`);
    await queryRunner.query(`DROP TABLE "users"`);
    await queryRunner.query(`DROP INDEX "public"."audit_events_action_idx"`);
    await queryRunner.query(`DROP INDEX "public"."audit_events_subject_idx"`);
    await queryRunner.query(`DROP INDEX "public"."audit_events_actor_idx"`);
    await queryRunner.query(`DROP INDEX "public"."audit_events_occurred_at_idx"`);
    await queryRunner.query(`DROP INDEX "public"."audit_events_sequence_key"`);
    await queryRunner.query(`DROP TABLE "audit_events"`);
  }
}
