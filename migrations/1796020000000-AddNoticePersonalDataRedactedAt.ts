import { MigrationInterface, QueryRunner } from 'typeorm';

/** When the retention job redacted a closed notice's personal data (null: not redacted). */
export class AddNoticePersonalDataRedactedAt1796020000000 implements MigrationInterface {
  name = 'AddNoticePersonalDataRedactedAt1796020000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "notices" ADD "personal_data_redacted_at" TIMESTAMP WITH TIME ZONE`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "notices" DROP COLUMN "personal_data_redacted_at"`);
  }
}
