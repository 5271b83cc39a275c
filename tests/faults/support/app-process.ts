import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../../src/db/embedded';

/**
 * The real server (`node dist/src/server.js`, built by `npm run test:faults`) as a child process:
 * started with its own environment, killed with any signal, restarted on the same port.
 *
 *   const app = await startApp({ DATABASE_URL: url, SMTP_URL: sink.url });
 *   await app.kill('SIGKILL');            // a crash
 *   await app.restart();                  // same port, same environment
 *   await app.stop();                     // SIGTERM, graceful
 */
export const SERVER_JS = path.resolve(__dirname, '../../../dist/src/server.js');
export const SESSION_SECRET = 'faults-session-secret-shared-by-every-instance-0123456789';

export interface AppProcess {
  readonly port: number;
  /** `http://127.0.0.1:<port>`, also its PUBLIC_BASE_URL. */
  readonly url: string;
  readonly pid: number;
  readonly running: boolean;
  /** What the process wrote to stdout and stderr (last 200 KB), for failure messages. */
  output(): string;
  /** Sends the signal and waits until the process has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Starts it again with the same port and environment and waits until it is ready. */
  restart(): Promise<void>;
  /** SIGTERM (graceful shutdown), SIGKILL when it does not exit in 30 s; removes its DATA_DIR. */
  stop(): Promise<void>;
}

/**
 * The node flags of `npm start` (package.json's start script, e.g. `--max-old-space-size=128`), so a
 * test can run the server exactly as operators do.
 */
export const NPM_START_NODE_FLAGS: string[] = (() => {
  const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.split(/\s+/);
  return words.slice(words.indexOf('node') + 1).filter((w) => w.startsWith('--'));
})();

export interface StartOptions {
  port?: number;
  /** Flags for node before the script (default none; NPM_START_NODE_FLAGS to run it as `npm start` does). */
  nodeFlags?: string[];
  /** How long to wait for /readyz (default 90 s: the machine is shared and slow at times). */
  readyTimeoutMs?: number;
}

export async function startApp(env: Record<string, string>, opts: StartOptions = {}): Promise<AppProcess> {
  if (!existsSync(SERVER_JS)) throw new Error(`${SERVER_JS} is missing: run the fault tests with 'npm run test:faults' (it builds first)`);
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const dataDir = path.join('/tmp', `takedown-faults-app-${process.pid}-${port}`);
  mkdirSync(dataDir, { recursive: true });
  const fullEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    // production: no demo content, and SESSION_SECRET is required as it is for real instances.
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_BASE_URL: url,
    SESSION_SECRET,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    INTAKE_PER_HOUR: '1000000',
    ALLOW_PRIVATE_FEEDS: 'true',
    ...env,
  };
  let child: ChildProcess | undefined;
  let out = '';
  let exited: Promise<void> = Promise.resolve();

  const launch = async () => {
    const c = spawn(process.execPath, [...(opts.nodeFlags ?? []), SERVER_JS], { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    const append = (b: Buffer) => {
      out = (out + b.toString('utf8')).slice(-200_000);
    };
    c.stdout!.on('data', append);
    c.stderr!.on('data', append);
    exited = new Promise((resolve) =>
      c.once('exit', (code, signal) => {
        out += `\n[process ${c.pid} exited: code ${code}, signal ${signal}]\n`;
        if (child === c) child = undefined;
        resolve();
      }),
    );
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 90_000);
    for (;;) {
      if (child !== c) throw new Error(`the app exited before it was ready:\n${out.slice(-5000)}`);
      try {
        const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        c.kill('SIGKILL');
        throw new Error(`the app was not ready within ${opts.readyTimeoutMs ?? 90_000} ms:\n${out.slice(-5000)}`);
      }
      await sleep(100);
    }
  };

  const kill = async (signal: NodeJS.Signals) => {
    const c = child;
    if (!c) return;
    c.kill(signal);
    await exited;
  };

  await launch();
  return {
    port,
    url,
    get pid() {
      return child?.pid ?? -1;
    },
    get running() {
      return child !== undefined;
    },
    output: () => out,
    kill,
    restart: launch,
    async stop() {
      const c = child;
      if (c) {
        const timer = setTimeout(() => c.kill('SIGKILL'), 30_000);
        await kill('SIGTERM');
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns a truthy value; fails with `what` at the deadline. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await sleep(everyMs);
  }
}
