import { secretBox } from '../../src/shared/secret-box';
import { createTestDatabase } from '../support/context';
import { makeItem, makeSource } from '../support/factories';
import { startWebhookReceiver, verifySignature, WebhookReceiver } from '../support/webhook-receiver';
import { AppProcess, SESSION_SECRET, startApp, waitFor } from './support/app-process';
import { call, noticeBody } from './support/http';

/**
 * Issue 17: webhook deliveries survive a crash. The real server as a child process; its receiver
 * holds every request open, so the worker is mid-delivery when the process is killed (kill -9).
 * After the restart (CLAIM_LEASE_SECONDS=5) every event is delivered, signed, none lost.
 */
const SECRET = 'whsec_faults-secret-0123456789abcdefghijklmnopqrstuvwxyz';
const RIGHTS = 'claimant-hooks@rights.example';

describe('when the webhook worker is killed mid-delivery', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let rx: WebhookReceiver;
  const apps: AppProcess[] = [];

  beforeEach(async () => {
    database = await createTestDatabase();
    rx = await startWebhookReceiver();
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.stop();
    await rx?.close();
    await database?.drop();
  });

  it('when the process is killed while receivers hold its requests, then after the restart every event arrives, signed, and none is lost', async () => {
    const [{ id: submitterId }] = await database.db.query(
      `INSERT INTO submitters (email, email_verified_at) VALUES ($1, now()) RETURNING id`,
      [RIGHTS],
    );
    await database.db.query(
      `INSERT INTO webhooks (submitter_id, url, events, secret_sealed, secret_prefix) VALUES ($1, $2, '{notice.status_changed}', $3, $4)`,
      [submitterId, `${rx.base}/hook`, secretBox(SESSION_SECRET, 'webhook-secret').seal(SECRET), SECRET.slice(0, 10)],
    );
    rx.answer('/hook', 'hang');
    const app = await startApp({ DATABASE_URL: database.url, ALLOW_PRIVATE_WEBHOOKS: 'true', CLAIM_LEASE_SECONDS: '5' });
    apps.push(app);
    const item = await makeItem(database.db, await makeSource(database.db));
    for (let i = 0; i < 5; i++) {
      const res = await call(app.url, 'POST', '/api/v1/notices', {
        body: { ...noticeBody(`hooks${i}`, [item.originalUrl]), email: RIGHTS },
      });
      expect(res.status).toBe(201);
    }
    await waitFor('the worker to be mid-delivery on every event', async () => rx.at('/hook').length >= 5, 30_000, 50);
    const claimed = await database.db.query(`SELECT id FROM webhook_deliveries WHERE status = 'pending' AND claimed_by IS NOT NULL`);
    expect(claimed).toHaveLength(5); // the process holds them all when it dies

    await app.kill('SIGKILL');
    rx.answer('/hook', 200);
    const restartAt = Date.now();
    await app.restart();
    await waitFor(
      'every delivery to be delivered after the restart',
      async () => {
        const [{ n }] = await database.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'delivered'`);
        return n === 5;
      },
      60_000,
      100,
    );
    const took = Date.now() - restartAt;
    const events = await database.db.query(`SELECT event_id, attempts FROM webhook_deliveries ORDER BY id`);
    const answered = rx.at('/hook').filter((r) => r.at >= restartAt);
    for (const e of events) {
      const got = answered.filter((r) => JSON.parse(r.body).id === e.event_id);
      expect(got.length).toBeGreaterThanOrEqual(1);
      expect(verifySignature(got[0].headers['takedown-signature'] as string, got[0].body, SECRET).ok).toBe(true);
      expect(e.attempts).toBe(2);
    }
    process.stdout.write(
      `webhook-recovery (kill -9): 5 deliveries held by the killed process; all delivered ${(took / 1000).toFixed(1)} s after the restart began (lease 5 s)\n`,
    );
  });
});
