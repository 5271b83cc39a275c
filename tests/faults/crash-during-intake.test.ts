import { createTestDatabase } from '../support/context';
import { makeItem, makeSource } from '../support/factories';
import { startSmtpSink, SmtpSink } from '../support/smtp-sink';
import { createStaff, tokenFor } from '../support/staff';
import { AppProcess, startApp } from './support/app-process';
import { call, noticeBody } from './support/http';

/**
 * Scenario 1: the app process is killed (SIGKILL) while 50 clients submit notices with
 * Idempotency-Key headers. After a restart every request whose answer was lost is retried with the
 * same key and body. Each key must end as exactly one notice, complete: its targets, its
 * `notice.submitted` audit event and its acknowledgement email row.
 */
const CLIENTS = 50;
const KILL_AFTER = 60; // 201s received before the crash

interface Sent {
  key: string;
  body: ReturnType<typeof noticeBody>;
  reference?: string;
  replayed?: boolean;
}

describe('when the app is killed while 50 clients submit notices', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let sink: SmtpSink;
  let app: AppProcess;

  beforeAll(async () => {
    database = await createTestDatabase();
    sink = await startSmtpSink();
  });

  afterAll(async () => {
    await app?.stop();
    await sink?.stop();
    await database?.drop();
  });

  it('then every key ends as exactly one complete notice after the retries', async () => {
    const source = await makeSource(database.db);
    const item = await makeItem(database.db, source);
    const admin = await createStaff(database.db, { role: 'admin' });
    const adminToken = await tokenFor(database.db, admin);
    app = await startApp({ DATABASE_URL: database.url, SMTP_URL: sink.url });

    const answered: Sent[] = [];
    const lost: Sent[] = [];
    const unexpected: string[] = [];
    let ok = 0;
    let killing: Promise<void> | undefined;

    const client = async (c: number) => {
      for (let i = 0; !killing; i++) {
        const key = `crash-${c}-${i}`;
        const body = noticeBody(`c${c}n${i}`, [item.originalUrl, `https://elsewhere.example/copy/${c}/${i}`]);
        const sent: Sent = { key, body };
        let res;
        try {
          res = await call(app.url, 'POST', '/api/v1/notices', { body, headers: { 'Idempotency-Key': key } });
        } catch {
          lost.push(sent); // the connection broke: we do not know whether it was taken
          return;
        }
        if (res.status !== 201) {
          unexpected.push(`${key}: ${res.status} ${res.text.slice(0, 200)}`);
          return;
        }
        sent.reference = res.body.reference;
        answered.push(sent);
        if (++ok === KILL_AFTER) killing = app.kill('SIGKILL');
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    await killing;
    expect(unexpected).toEqual([]);
    expect(answered.length).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(lost.length).toBeGreaterThan(0); // the kill did cut requests in flight

    await app.restart();
    for (const sent of lost) {
      const res = await call(app.url, 'POST', '/api/v1/notices', { body: sent.body, headers: { 'Idempotency-Key': sent.key } });
      expect(`${sent.key}: ${res.status}`).toBe(`${sent.key}: 201`);
      sent.reference = res.body.reference;
      sent.replayed = res.headers.get('idempotent-replayed') === 'true';
    }
    // A retry with the same key after a success answers the same notice, not a new one.
    const again = await call(app.url, 'POST', '/api/v1/notices', {
      body: answered[0].body,
      headers: { 'Idempotency-Key': answered[0].key },
    });
    expect(again.status).toBe(201);
    expect(again.body.reference).toBe(answered[0].reference);

    const all = [...answered, ...lost];
    const references = all.map((s) => s.reference);
    expect(new Set(references).size).toBe(all.length);

    const rows: { reference: string; email: string; targets: number; submitted: number; acks: number }[] = await database.db.query(
      `SELECT n.reference, n.email,
              (SELECT count(*)::int FROM notice_targets t WHERE t.notice_id = n.id) AS targets,
              (SELECT count(*)::int FROM audit_events a WHERE a.action = 'notice.submitted' AND a.subject_id = n.reference) AS submitted,
              (SELECT count(*)::int FROM outbound_emails e WHERE e.notice_id = n.id AND e.template = 'notice-received') AS acks
         FROM notices n`,
    );
    // Exactly one notice per key (each key's body has its own email address), and no other notice.
    expect(rows.length).toBe(all.length);
    const byEmail = new Map(rows.map((r) => [r.email, r]));
    expect(byEmail.size).toBe(all.length);
    for (const s of all) {
      const row = byEmail.get(s.body.email);
      expect({ key: s.key, reference: row?.reference, targets: row?.targets, submitted: row?.submitted, acks: row?.acks }).toEqual({
        key: s.key,
        reference: s.reference,
        targets: 2,
        submitted: 1,
        acks: 1,
      });
    }
    const keys: { n: number }[] = await database.db.query(`SELECT count(*)::int AS n FROM idempotency_keys WHERE response IS NOT NULL`);
    expect(keys[0].n).toBe(all.length);

    // The audit chain, sealed across the crash, still verifies.
    const verify = await call(app.url, 'GET', '/api/v1/audit/verify', { token: adminToken });
    expect(verify.status).toBe(200);
    expect(verify.body).toMatchObject({ ok: true, firstBadSequence: null });
    process.stdout.write(
      `crash-during-intake: ${answered.length} answered before the kill, ${lost.length} lost and retried, ` +
        `${lost.filter((s) => s.replayed).length} of them had committed (replayed)\n`,
    );
  });
});
