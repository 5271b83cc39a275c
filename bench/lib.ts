import { ChildProcess, spawn } from 'node:child_process';
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

/** Starts the built server (`dist/src/server.js`) as its own process on a free port. */
export async function startServer(env: Record<string, string>): Promise<{ url: string; proc: ChildProcess; stop(): Promise<void> }> {
  const port = await freePort();
  // BENCH_CPU_PROF=<dir>: the server writes a V8 CPU profile there when it stops (open it in Chrome DevTools).
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const proc = spawn(process.execPath, [...prof, path.join(root, 'dist/src/server.js')], {
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
  return {
    url,
    proc,
    stop: () =>
      new Promise((resolve) => {
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
