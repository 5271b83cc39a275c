import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateCounterNotices1796014748164 implements MigrationInterface {
  name = 'CreateCounterNotices1796014748164';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "counter_notices" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "notice_id" uuid NOT NULL, "status" character varying(20) NOT NULL, "urls" text array NOT NULL, "item_ids" uuid array NOT NULL, "name" character varying(200) NOT NULL, "email" character varying(254) NOT NULL, "phone" character varying(40) NOT NULL, "address" character varying(1000) NOT NULL, "country" character(2) NOT NULL, "explanation" text, "mistake_statement" text NOT NULL, "consent_statement" text NOT NULL, "statements_at" TIMESTAMP WITH TIME ZONE NOT NULL, "signature" character varying(200) NOT NULL, "channel" character varying(10) NOT NULL, "submitter_ip" character varying(64), "received_at" TIMESTAMP WITH TIME ZONE NOT NULL, "restore_after" TIMESTAMP WITH TIME ZONE NOT NULL, "restored_at" TIMESTAMP WITH TIME ZONE, "court_action" jsonb, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "counter_notices_restore_after_check" CHECK ("restore_after" > "received_at"), CONSTRAINT "counter_notices_channel_check" CHECK ("channel" IN ('form', 'api')), CONSTRAINT "counter_notices_status_check" CHECK ("status" IN ('received', 'restored', 'upheld')), CONSTRAINT "PK_2fe31d52f4c6767ee7c452b24b9" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "counter_notices_received_idx" ON "counter_notices"  ("received_at") `);
    await queryRunner.query(`CREATE INDEX "counter_notices_due_idx" ON "counter_notices"  ("restore_after") WHERE "status" = 'received'`);
    await queryRunner.query(`CREATE UNIQUE INDEX "counter_notices_notice_key" ON "counter_notices"  ("notice_id") `);
    await queryRunner.query(
      `ALTER TABLE "counter_notices" ADD CONSTRAINT "FK_d7dc4471c3274247711ff57a5ee" FOREIGN KEY ("notice_id") REFERENCES "notices"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "counter_notices" DROP CONSTRAINT "FK_d7dc4471c3274247711ff57a5ee"`);
    await queryRunner.query(`DROP INDEX "public"."counter_notices_notice_key"`);
    await queryRunner.query(`DROP INDEX "public"."counter_notices_due_idx"`);
    await queryRunner.query(`DROP INDEX "public"."counter_notices_received_idx"`);
    await queryRunner.query(`DROP TABLE "counter_notices"`);
  }
}
