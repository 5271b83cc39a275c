import { MigrationInterface, QueryRunner } from 'typeorm';

/** The edge purge outbox (SPEC §16): one row per change to public pages, sent by the purge worker. */
export class CreateEdgePurges1796400000000 implements MigrationInterface {
  name = 'CreateEdgePurges1796400000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "edge_purges" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "keys" text array NOT NULL, "status" character varying(10) NOT NULL DEFAULT 'queued', "attempts" integer NOT NULL DEFAULT '0', "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "done_targets" text array NOT NULL DEFAULT '{}', "last_error" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "sent_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "edge_purges_keys_check" CHECK (cardinality("keys") > 0), CONSTRAINT "edge_purges_attempts_check" CHECK ("attempts" >= 0), CONSTRAINT "edge_purges_status_check" CHECK ("status" IN ('queued', 'sent', 'failed')), CONSTRAINT "PK_edge_purges_id" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "edge_purges_due_idx" ON "edge_purges" ("next_attempt_at") WHERE "status" = 'queued'`);
    await queryRunner.query(`CREATE INDEX "edge_purges_created_idx" ON "edge_purges" ("created_at")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "edge_purges"`);
  }
}
