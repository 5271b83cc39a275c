import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort } from '../../../src/db/embedded';

export const VCL = path.resolve(__dirname, '../../../deploy/varnish/default.vcl');
const VARNISHD = process.env.VARNISHD_PATH ?? '/usr/sbin/varnishd';

export interface Varnish {
  readonly port: number;
  readonly url: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Debian's varnishd with the project's VCL (deploy/varnish/default.vcl), its backend pointed at the
 * app under test: `varnishd -F -a 127.0.0.1:<port> -f <vcl> -n <tmpdir> -s malloc,32m`, stopped by its pid.
 */
export async function startVarnish(opts: { backendPort: number; port?: number }): Promise<Varnish> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync('/tmp/takedown-varnish-');
  chmodSync(dir, 0o755); // varnishd reads the VCL as its unprivileged user
  const vcl = readFileSync(VCL, 'utf8')
    .replace('.host = "app";', '.host = "127.0.0.1";')
    .replace('.port = "3000";', `.port = "${opts.backendPort}";`);
  if (!vcl.includes(`.port = "${opts.backendPort}"`)) throw new Error('could not point the VCL at the app');
  const vclFile = path.join(dir, 'default.vcl');
  writeFileSync(vclFile, vcl, { mode: 0o644 });
  let out = '';
  const child: ChildProcess = spawn(
    VARNISHD,
    ['-F', '-a', `127.0.0.1:${port}`, '-f', vclFile, '-n', path.join(dir, 'work'), '-s', 'malloc,32m'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-50_000)));
  child.stderr!.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-50_000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`varnishd exited:\n${out}`);
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`varnishd did not answer within 30 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    url,
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.kill('SIGTERM');
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A TCP forwarder in front of a purge endpoint that can be taken down (connections refused) and
 * brought back on the same port: an edge's purge API having an outage.
 */
export async function startForwarder(target: { port: number }) {
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  const up = () =>
    new Promise<void>((resolve, reject) => {
      const s = net.createServer((client) => {
        const upstream = net.connect(target.port, '127.0.0.1');
        for (const x of [client, upstream]) {
          sockets.add(x);
          x.on('close', () => sockets.delete(x));
          x.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        server = s;
        resolve();
      });
    });
  const down = () =>
    new Promise<void>((resolve) => {
      for (const x of sockets) x.destroy();
      if (!server) return resolve();
      server.close(() => resolve());
      server = null;
    });
  await up();
  return { port, url: `http://127.0.0.1:${port}/`, up, down, close: down };
}
