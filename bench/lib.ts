import { ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import autocannon from 'autocannon';
import { freePort } from '../src/db/embedded';

/** One line of the benchmark table. */
export interface BenchRow {
  /** What was measured, e.g. "GET /items/:slug". */
  name: string;
  value: number;
  unit: string;
  /** The same-run baseline it is compared with, if any. */
  baseline?: { name: string; value: number };
  /** The goal, as text ("≥ 50% of baseline", "≤ 50 ms"). */
  goal?: string;
  ok?: boolean;
  note?: string;
}

export interface BenchContext {
  /** The benchmark database (embedded PostgreSQL, migrated, empty at start). */
  databaseUrl: string;
  log(line: string): void;
}

export type BenchSuite = { name: string; run(ctx: BenchContext): Promise<BenchRow[]> };

const root = path.resolve(__dirname, '../..');

/** The node flags of `npm start` (package.json) and the Dockerfile's CMD. */
export const SERVER_NODE_FLAGS = ['--max-old-space-size=128'];

/** The resident set size of a process now, in MiB (Linux: /proc/<pid>/status), or NaN. */
export function rssMb(pid: number | undefined): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * The server's RSS, sampled every 50 ms from outside (as an operator's `ps` would see it):
 * `reset()` at the start of a scenario, `peak()` at its end (issue 18: ≤ 250 MB in every scenario).
 */
export interface RssMeter {
  reset(): void;
  /** The highest RSS seen since the last reset, in MiB. */
  peak(): number;
  stop(): void;
}

export function meterRss(pid: number | undefined): RssMeter {
  let peak = 0;
  const sample = () => {
    const mb = rssMb(pid);
    if (mb > peak) peak = mb;
  };
  const timer = setInterval(sample, 50);
  timer.unref();
  return {
    reset() {
      peak = 0;
      sample();
    },
    peak() {
      sample();
      return Math.round(peak);
    },
    stop: () => clearInterval(timer),
  };
}

/** utime + stime (and, with `children`, cutime + cstime) of a process, in seconds; 0 when it is gone. */
function cpuSecondsOf(pid: number, children = false): number {
  try {
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0);
    return ticks / CLOCK_TICKS;
  } catch {
    return 0;
  }
}
const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux

/** The PostgreSQL server's processes: the postmaster (with its reaped children) and its live children. */
function postgresCpuSeconds(postmaster: number): number {
  let total = cpuSecondsOf(postmaster, true);
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster) total += cpuSecondsOf(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/**
 * CPU seconds the server process and PostgreSQL spend between `start()` and `stop()`: on a shared
 * machine, work per CPU-second is comparable across runs where wall-clock rates are not.
 * `postmaster` is the PostgreSQL server's pid (the parent of any backend, see `postmasterPid`).
 */
export function cpuMeter(serverPid: number, postmaster: number) {
  const read = () => ({ server: cpuSecondsOf(serverPid), postgres: postgresCpuSeconds(postmaster) });
  const start = read();
  return {
    stop() {
      const end = read();
      return { server: end.server - start.server, postgres: end.postgres - start.postgres };
    },
  };
}

/** The postmaster's pid, from the parent of this connection's backend (the machine must be the database's). */
export async function postmasterPid(c: { query(sql: string): Promise<{ rows: any[] }> }): Promise<number> {
  const [{ pid }] = (await c.query('SELECT pg_backend_pid() AS pid')).rows;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

export const RSS_GOAL_MB = 250;
const RSS_GOAL_MIB = (RSS_GOAL_MB * 1e6) / 2 ** 20;

/** How every RSS row's name starts (run.ts adds one for a suite that has none). */
export const RSS_ROW = 'server RSS peak: ';

/** A table row for the server's RSS peak during a scenario. */
export function rssRow(scenario: string, peakMb: number): BenchRow {
  return {
    name: `${RSS_ROW}${scenario}`,
    value: peakMb,
    unit: 'MiB',
    // The figure is in MiB (as /proc reports it); the goal is in MB: 250 MB = 238.4 MiB.
    goal: `≤ ${RSS_GOAL_MB} MB = ${RSS_GOAL_MIB.toFixed(0)} MiB (issue 18)`,
    ok: peakMb <= RSS_GOAL_MIB,
  };
}

/** Starts the built server (`dist/src/server.js`) as its own process on a free port; `rss` meters its memory. */
export async function startServer(
  env: Record<string, string>,
): Promise<{ url: string; proc: ChildProcess; rss: RssMeter; stop(): Promise<void> }> {
  const port = await freePort();
  // BENCH_CPU_PROF=<dir>: the server writes a V8 CPU profile there when it stops (open it in Chrome DevTools).
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  // As `npm start` and the Dockerfile run it: V8's old space capped (see docs/edge-caching.md, Memory).
  const proc = spawn(process.execPath, [...prof, ...SERVER_NODE_FLAGS, path.join(root, 'dist/src/server.js')], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}`);
    if (await ping(`${url}/healthz`)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const rss = meterRss(proc.pid);
  return {
    url,
    proc,
    rss,
    stop: () =>
      new Promise((resolve) => {
        rss.stop();
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

function ping(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    http
      .get(url, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      })
      .on('error', () => resolve(false));
  });
}

export interface LoadResult {
  rps: number;
  /** Requests completed in the run. */
  requests: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** autocannon for `seconds` with `connections`; requests may be a list cycled through. */
export async function load(opts: autocannon.Options): Promise<LoadResult> {
  const r = await autocannon({ duration: 5, connections: 50, ...opts });
  const lat = r.latency as unknown as Record<string, number>;
  return {
    rps: Math.round(r.requests.average),
    requests: r.requests.total,
    p50: lat.p50,
    p95: lat.p97_5 !== undefined && lat.p95 === undefined ? lat.p97_5 : (lat.p95 ?? lat.p97_5),
    p99: lat.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

/** A bare Express hello-world in a child process: the baseline for page speed. */
export async function helloWorldBaseline(): Promise<number> {
  const port = await freePort();
  const code = `const e=require('express');const a=e();a.get('/',(q,s)=>s.send('hello world'));a.listen(${port},'127.0.0.1',()=>process.send('up'));`;
  const proc = spawn(process.execPath, ['-e', code], { cwd: root, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  await new Promise((r) => proc.once('message', r));
  try {
    return (await load({ url: `http://127.0.0.1:${port}/` })).rps;
  } finally {
    proc.kill();
  }
}

/**
 * `count` small items 'bench-item-1…N' of a 'Bench Publisher' source, made unless an earlier suite
 * already made them in this database (the review, batches and items suites share them).
 */
export async function ensureBenchItems(
  c: { query(sql: string, params?: unknown[]): Promise<{ rowCount: number | null; rows: any[] }> },
  count: number,
) {
  const have = (await c.query(`SELECT 1 FROM items WHERE slug = 'bench-item-' || $1::text`, [count])).rowCount;
  if (have) return;
  const [{ id }] = (
    await c.query(
      `INSERT INTO sources (name, domains, contact_email) VALUES ('Bench Publisher', '{bench.example}', 'editor@bench.example') RETURNING id`,
    )
  ).rows;
  for (let from = 1; from <= count; from += 250_000) {
    const to = Math.min(count, from + 249_999);
    await c.query(
      `INSERT INTO items (source_id, slug, title, original_url, original_url_normalised, guid, first_fetched_at, last_fetched_at, listed_at, raw_sha256, content, excerpt)
       SELECT $1, 'bench-item-' || g, 'Benchmark article ' || g, 'https://bench.example/posts/' || g, 'https://bench.example/posts/' || g, 'guid-' || g,
              now() - g * interval '1 second', now() - g * interval '1 second', now() - g * interval '1 second', md5(g::text) || md5(g::text), '<p>x</p>', 'x'
         FROM generate_series($2::int, $3::int) g`,
      [id, from, to],
    );
  }
}
