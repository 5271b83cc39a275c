import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDataSource } from '../src/db/data-source';
import { startEmbeddedPostgres } from '../src/db/embedded';
import { BenchRow, meterRss, RSS_ROW, rssRow } from './lib';
import { suites } from './suites';

/**
 * `npm run bench`: the built app against an embedded PostgreSQL with generated data. Prints one
 * table and writes it to BENCHMARKS.md with the machine it ran on. `npm run bench -- name…` runs
 * only the named suites and only prints their table.
 */
async function main() {
  const only = process.argv.slice(2);
  const chosen = only.length ? suites.filter((s) => only.includes(s.name)) : suites;
  const pg = await startEmbeddedPostgres({
    dataDir: process.env.BENCH_DATA_DIR ?? '/tmp/takedown-bench',
    database: `bench_${Date.now()}`,
    settings: { max_connections: '200', shared_buffers: '512MB' },
  });
  const db = createDataSource(pg.url, { poolSize: 2 });
  await db.initialize();
  await db.runMigrations({ transaction: 'each' });
  await db.destroy();
  const rows: BenchRow[] = [];
  try {
    for (const s of chosen) {
      const started = Date.now();
      console.error(`== ${s.name}`);
      // A suite that starts no server runs the server's code in this process: its RSS is the figure then.
      const own = meterRss(process.pid);
      own.reset();
      let got: BenchRow[];
      try {
        got = await s.run({ databaseUrl: pg.url, log: (l) => console.error(`   ${l}`) });
      } catch (e) {
        // One broken suite must not throw away the others' figures: it shows as a failed row.
        console.error(e);
        const why = String(e instanceof Error ? e.message : e).slice(0, 120);
        got = [{ name: `${s.name}: the suite failed (${why})`, value: 0, unit: '', ok: false }];
      }
      own.stop();
      rows.push(...got);
      if (!got.some((r) => r.name.startsWith(RSS_ROW))) {
        // Not the server's memory (issue 18's goal is the server's): the bench process also holds the
        // suite's generated data and its load generator, so the figure is shown without a goal.
        const { goal: _goal, ok: _ok, ...row } = rssRow(`${s.name} (whole suite)`, own.peak());
        rows.push({
          ...row,
          name: `bench process RSS peak: ${s.name} (whole suite)`,
          note: 'no server process: the bench process, which runs the code in-process and holds the generated data; not a server figure',
        });
      }
      console.error(`   (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }
  } finally {
    await pg.stop();
  }
  const table = render(rows);
  console.log(table);
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
  // Only a full run replaces BENCHMARKS.md: a partial run would drop the other suites' figures.
  if (only.length) {
    console.error('(partial run: BENCHMARKS.md left as it was)');
    return;
  }
  writeFileSync(
    path.resolve(__dirname, '../../BENCHMARKS.md'),
    `# Benchmarks\n\nMeasured with \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${machine}. The load generator runs on the same machine, so absolute figures are noisy; compare each figure with its baseline measured in the same run.\n\n${table}\n`,
  );
}

function render(rows: BenchRow[]): string {
  const lines = ['| measure | value | baseline (same run) | goal | met |', '| --- | --- | --- | --- | --- |'];
  for (const r of rows) {
    const base = r.baseline
      ? `${r.baseline.name}: ${fmt(r.baseline.value)} ${r.unit} (${Math.round((100 * r.value) / r.baseline.value)}%)`
      : '';
    lines.push(
      `| ${r.name} | ${fmt(r.value)} ${r.unit} | ${base} | ${r.goal ?? ''} | ${r.ok === undefined ? '' : r.ok ? 'yes' : 'no'}${r.note ? ` (${r.note})` : ''} |`,
    );
  }
  return lines.join('\n');
}

const fmt = (n: number) => (Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(1));

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
