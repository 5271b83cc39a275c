import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/db/embedded';

/**
 * Debian's Dovecot (`dovecot-imapd`, installed by .ci/run), started by the test with its own
 * configuration in a temporary folder: plain IMAP on 127.0.0.1, one user with a static password,
 * Maildir under the folder. Runs as root the way STACK.md says works (login as dovenull, mail as
 * dovecot). Stopped (and the folder removed) by `stop()`.
 */
export interface Dovecot {
  port: number;
  user: string;
  password: string;
  url(mailbox?: string): string;
  stop(): Promise<void>;
}

export const DOVECOT_BIN = '/usr/sbin/dovecot';

export async function startDovecot(): Promise<Dovecot> {
  if (!existsSync(DOVECOT_BIN))
    throw new Error(`${DOVECOT_BIN} is missing: install Debian's dovecot-imapd (.ci/run does: apt-get install -y dovecot-imapd)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'td-dovecot-'));
  chmodSync(dir, 0o755);
  const home = path.join(dir, 'home');
  mkdirSync(home);
  chownSync(home, uidOf('dovecot'), gidOf('dovecot'));
  const port = await freePort();
  const user = 'desk';
  const password = 'imap-test-password';
  const conf = path.join(dir, 'dovecot.conf');
  writeFileSync(
    conf,
    `protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 100
mail_location = maildir:~/Maildir
passdb {
  driver = static
  args = password=${password}
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=${home}
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service auth {
  user = root
}
`,
  );
  const proc: ChildProcess = spawn(DOVECOT_BIN, ['-F', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d) => (stderr += String(d)));
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) throw new Error(`dovecot exited with ${proc.exitCode}: ${stderr}`);
    if (await listening(port)) break;
    await new Promise((r) => setTimeout(r, 100));
    if (i === 99) throw new Error(`dovecot did not listen on ${port}: ${stderr}`);
  }
  return {
    port,
    user,
    password,
    url: (mailbox = 'INBOX') => `imap://${user}:${password}@127.0.0.1:${port}/${mailbox}`,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function uidOf(name: string): number {
  return Number(require('node:child_process').execFileSync('id', ['-u', name]).toString().trim());
}
function gidOf(name: string): number {
  return Number(require('node:child_process').execFileSync('id', ['-g', name]).toString().trim());
}
