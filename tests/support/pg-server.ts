import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, chmodSync, writeSync } from 'node:fs';
import path from 'node:path';
import { alive, EmbeddedDatabase, freePort, startEmbeddedPostgres } from '../../src/db/embedded';

/**
 * One embedded PostgreSQL per test run, in its own data dir and port, so a running dev server and
 * parallel runs never collide. A run killed half-way leaves a lock whose pid is dead: its server is
 * stopped and its folder removed at the next start.
 */
const ROOT = '/tmp/takedown-test-pg';

export interface TestServer extends EmbeddedDatabase {
  dir: string;
  lockFile: string;
}

export async function startTestServer(database: string): Promise<TestServer> {
  mkdirSync(ROOT, { recursive: true });
  chmodSync(ROOT, 0o755);
  await reapDeadRuns();
  for (let attempt = 0; attempt < 10; attempt++) {
    const port = await freePort();
    const lockFile = path.join(ROOT, `port-${port}.lock`);
    let fd: number;
    try {
      fd = openSync(lockFile, 'wx'); // exclusive: two runs cannot take the same port
    } catch {
      continue;
    }
    writeSync(fd, String(process.pid));
    closeSync(fd);
    const dir = path.join(ROOT, `run-${port}`);
    rmSync(dir, { recursive: true, force: true });
    try {
      const server = await startEmbeddedPostgres({
        dataDir: dir,
        database,
        port,
        timeoutMs: 60_000,
        settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '200' },
      });
      return { ...server, dir, lockFile };
    } catch (e) {
      rmSync(lockFile, { force: true });
      rmSync(dir, { recursive: true, force: true });
      if (attempt === 9) throw e;
    }
  }
  throw new Error('could not find a free port for the test PostgreSQL');
}

export async function stopTestServer(server: TestServer) {
  await server.stop();
  rmSync(server.dir, { recursive: true, force: true });
  rmSync(server.lockFile, { force: true });
}

async function reapDeadRuns() {
  for (const f of readdirSync(ROOT)) {
    const m = /^port-(\d+)\.lock$/.exec(f);
    if (!m) continue;
    const owner = Number(readFileSync(path.join(ROOT, f), 'utf8'));
    if (owner && alive(owner)) continue;
    const dir = path.join(ROOT, `run-${m[1]}`);
    const pidFile = path.join(dir, 'pg', 'postmaster.pid');
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      if (pid && alive(pid)) {
        process.kill(pid, 'SIGKILL');
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    rmSync(dir, { recursive: true, force: true });
    rmSync(path.join(ROOT, f), { force: true });
  }
}
