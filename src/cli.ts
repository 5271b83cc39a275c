import 'reflect-metadata';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config';
import { Container, createContainer } from './container';
import { withTransaction } from './db/transaction';
import { sealAuditChain, verifyAuditChain } from './modules/audit';
import { createApiToken, createUser, findByEmail, ROLES, type Role } from './modules/auth';
import { seedDemo } from './demo/seed-demo';
import { seedDemoNotices } from './demo/seed-demo-notices';
import { describeResult, importFeedNow } from './modules/feeds';
import { importItemsFile } from './modules/items';
import { backfillFingerprints } from './modules/staydown';

const USAGE = `Takedown Desk command line: npm run cli -- <command> [options]

  migrate                                          apply pending database migrations
  create-user --email E --name N --role R [--password P]
                                                   create a staff account (role: admin or moderator);
                                                   without --password you are asked, or one is generated
  create-token --email E [--name N]                create an API token for a staff member (printed once)
  verify-audit                                     walk the audit hash chain; exit 1 naming the first bad event
  import-feed --source ID                          import one source's feed now; prints created/updated/skipped
  import-items FILE                                add items from a JSON Lines file (one POST /api/v1/items body a line)
  seed-demo                                        add the demo sources and items (skips those already there)
  fingerprint-backfill [--batch N]                 add items removed before staydown to the fingerprint bank
                                                   (batched, resumable: run it again after an interruption)
`;

type Command = (c: Container, args: string[]) => Promise<number>;

const CLI_ACTOR = { type: 'system' as const, label: 'cli' };

const commands: Record<string, Command> = {
  async migrate(c) {
    const ran = await c.db.runMigrations({ transaction: 'each' });
    console.log(ran.length ? `Applied ${ran.length} migration(s): ${ran.map((m) => m.name).join(', ')}` : 'The database is up to date.');
    return 0;
  },

  async 'create-user'(c, args) {
    const { values } = parseArgs({
      args,
      options: { email: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' }, password: { type: 'string' } },
    });
    if (!values.email || !values.name || !values.role) return usage('create-user needs --email, --name and --role');
    if (!ROLES.includes(values.role as Role)) return usage(`--role must be one of: ${ROLES.join(', ')}`);
    let password = values.password;
    if (password === undefined && process.stdin.isTTY) {
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      password = (await rl.question('Password (leave empty to generate one): ')).trim() || undefined;
      rl.close();
    }
    const { user, generatedPassword } = await withTransaction(c.db, (tx) =>
      createUser(tx, {
        actor: CLI_ACTOR,
        email: values.email!,
        name: values.name!,
        role: values.role as Role,
        password,
        at: c.clock.now(),
      }),
    );
    console.log(`Created ${user.role} ${user.email}.`);
    if (generatedPassword) console.log(`One-time password (change it at first sign-in): ${generatedPassword}`);
    return 0;
  },

  async 'create-token'(c, args) {
    const { values } = parseArgs({ args, options: { email: { type: 'string' }, name: { type: 'string' } } });
    if (!values.email) return usage('create-token needs --email');
    const user = await findByEmail(c.db.manager, values.email);
    if (!user || !user.active) {
      console.error(`No active staff account with the email ${values.email}.`);
      return 1;
    }
    const { token } = await withTransaction(c.db, (tx) =>
      createApiToken(tx, { actor: CLI_ACTOR, user, name: values.name ?? 'cli', at: c.clock.now() }),
    );
    console.log(token);
    console.error(`API token for ${user.email}. It is shown only now; send it as "Authorization: Bearer <token>".`);
    return 0;
  },

  async 'import-feed'(c, args) {
    const { values } = parseArgs({ args, options: { source: { type: 'string' } } });
    if (!values.source) return usage('import-feed needs --source <id> (the ids are on /sources and in GET /api/v1/sources)');
    const result = await importFeedNow(c, values.source, { actor: CLI_ACTOR, onProgress: progress('entries') });
    console.log(
      `${result.ok ? `Imported: ${describeResult(result)}` : `Import failed: ${result.reason}`}${result.ms !== undefined ? ` in ${(result.ms / 1000).toFixed(1)} s` : ''}.`,
    );
    return result.ok ? 0 : 1;
  },

  async 'import-items'(c, args) {
    const file = args[0];
    if (!file) return usage('import-items needs a FILE (JSON Lines)');
    const r = await importItemsFile(c, file, {
      actor: CLI_ACTOR,
      now: () => c.clock.now(),
      onProgress: progress('lines'),
      staydownSimilarity: c.config.policy.staydownSimilarity,
    });
    for (const bad of r.invalid.slice(0, 50))
      console.error(`  line ${bad.line}: ${bad.errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join('; ')}`);
    if (r.invalid.length > 50) console.error(`  … and ${r.invalid.length - 50} more invalid lines`);
    const skipped = Object.entries(r.skipped)
      .map(([k, n]) => `${k}: ${n}`)
      .join('; ');
    console.log(
      `${r.lines} line(s): ${r.created} new, ${r.updated} updated, ${r.unchanged} unchanged, ${r.invalid.length} invalid${r.held ? `, ${r.held} held (match removed content)` : ''}${skipped ? `, skipped (${skipped})` : ''}.`,
    );
    return r.invalid.length ? 1 : 0;
  },

  async 'fingerprint-backfill'(c, args) {
    const { values } = parseArgs({ args, options: { batch: { type: 'string' } } });
    const batch = values.batch === undefined ? 200 : Number(values.batch);
    if (!Number.isInteger(batch) || batch < 1 || batch > 5000) return usage('--batch must be a whole number from 1 to 5000');
    const r = await backfillFingerprints(c, {
      actor: CLI_ACTOR,
      batch,
      onProgress: (done, total) => console.error(`  ${done} of ${total} removed item(s) fingerprinted`),
    });
    console.log(r.total ? `Added ${r.added} fingerprint(s) to the staydown bank.` : 'Every removed item is already in the staydown bank.');
    return 0;
  },

  async 'seed-demo'(c) {
    const r = await seedDemo(c, c.clock.now());
    console.log(r.sources ? `Added ${r.sources} demo source(s) with ${r.items} item(s).` : 'The demo sources are already there.');
    const notices = await seedDemoNotices(c);
    console.log(
      notices
        ? `Added demo notices: ${Object.entries(notices)
            .map(([k, v]) => `${v} (${k})`)
            .join(', ')}.`
        : 'Demo notices: none added (notices exist already, no active admin, or fewer than four published items).',
    );
    return 0;
  },

  async 'verify-audit'(c) {
    await sealAuditChain(c.db);
    const r = await verifyAuditChain(c.db);
    if (r.ok) {
      console.log(`Audit chain OK: ${r.events} event(s) verified${r.unsealed ? `, ${r.unsealed} not yet sealed` : ''}.`);
      return 0;
    }
    console.error(`Audit chain BROKEN at sequence ${r.firstBadSequence}: ${r.problem} (${r.events} event(s) verified before it).`);
    return 1;
  },
};

/** Progress on stderr: rewritten in place on a terminal, a line every 10% otherwise. */
function progress(label: string) {
  let lastShown = -1;
  return (done: number, total?: number) => {
    if (process.stderr.isTTY) {
      process.stderr.write(`\r  ${label}: ${done}${total ? ` / ${total}` : ''}   `);
      if (total && done >= total) process.stderr.write('\n');
      return;
    }
    const pct = total ? Math.floor((10 * done) / total) : Math.floor(done / 10_000);
    if (pct !== lastShown) {
      lastShown = pct;
      process.stderr.write(`  ${label}: ${done}${total ? ` / ${total}` : ''}\n`);
    }
  };
}

function usage(problem?: string): number {
  if (problem) console.error(`${problem}\n`);
  console.error(USAGE);
  return 2;
}

async function main(): Promise<number> {
  const [name, ...args] = process.argv.slice(2);
  const command = name ? commands[name] : undefined;
  if (!command) return usage(name && name !== '--help' ? `Unknown command: ${name}` : undefined);
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      return 78;
    }
    throw e;
  }
  const container = await createContainer(config, { migrate: name !== 'migrate', poolSize: 4 });
  try {
    return await command(container, args);
  } finally {
    await container.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    const e = err as { code?: string; message?: string; details?: { errors?: { message: string }[] } };
    console.error(e.details?.errors?.map((x) => x.message).join('\n') ?? e.message ?? String(err));
    process.exit(1);
  },
);
