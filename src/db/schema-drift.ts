import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createDataSource } from './data-source';
import { startEmbeddedPostgres } from './embedded';

/**
 * Development tool: compares the entities with the schema the migrations build, on a scratch
 * embedded PostgreSQL.
 *   node dist/src/db/schema-drift.js check          exit 1 when entities and migrations differ
 *   node dist/src/db/schema-drift.js generate Name  write migrations/<timestamp>-Name.ts to review
 */
async function main() {
  const [mode, name] = process.argv.slice(2);
  if (mode !== 'check' && !(mode === 'generate' && name && /^[A-Z][A-Za-z0-9]+$/.test(name))) {
    console.error('usage: schema-drift check | schema-drift generate VerbNoun');
    process.exit(2);
  }
  const scratch = path.resolve(process.env.DRIFT_DATA_DIR ?? '/tmp/takedown-schema-drift');
  const pg = await startEmbeddedPostgres({ dataDir: scratch, database: `drift_${Date.now()}`, settings: { fsync: 'off' } });
  const db = createDataSource(pg.url, { poolSize: 2 });
  let code = 0;
  try {
    await db.initialize();
    await db.runMigrations({ transaction: 'each' });
    const sql = await db.driver.createSchemaBuilder().log();
    if (mode === 'check') {
      if (sql.upQueries.length) {
        console.error('Schema drift: the entities differ from what the migrations build:');
        for (const q of sql.upQueries) console.error(`  ${q.query}`);
        code = 1;
      } else console.log('No schema drift.');
    } else if (!sql.upQueries.length) {
      console.log('Nothing to generate: the migrations already match the entities.');
    } else {
      const ts = Date.now();
      const q = (s: string) => '`' + s.replace(/`/g, '\\`').replace(/\$\{/g, '\\${') + '`';
      const up = sql.upQueries.map((x) => `    await queryRunner.query(${q(x.query)});`).join('\n');
      const down = sql.downQueries
        .reverse()
        .map((x) => `    await queryRunner.query(${q(x.query)});`)
        .join('\n');
      const file = path.resolve(__dirname, '../../../migrations', `${ts}-${name}.ts`);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(
        file,
        `import { MigrationInterface, QueryRunner } from 'typeorm';\n\nexport class ${name}${ts} implements MigrationInterface {\n  name = '${name}${ts}';\n\n  public async up(queryRunner: QueryRunner): Promise<void> {\n${up}\n  }\n\n  public async down(queryRunner: QueryRunner): Promise<void> {\n${down}\n  }\n}\n`,
      );
      console.log(`Wrote ${file}; review it and add it to migrations/index.ts.`);
    }
  } finally {
    await db.destroy().catch(() => undefined);
    await pg.stop();
  }
  process.exit(code);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
