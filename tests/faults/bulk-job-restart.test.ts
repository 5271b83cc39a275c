import { createTestDatabase } from '../support/context';
import { makeItem, makeSource } from '../support/factories';
import { createStaff, tokenFor } from '../support/staff';
import { AppProcess, startApp, waitFor } from './support/app-process';
import { call, noticeBody } from './support/http';

/**
 * Issue 16: a bulk decision over BULK_INLINE_MAX notices is a durable job run by the server's
 * `bulk-jobs` worker. The real server as a child process is killed (kill -9) while the job is half
 * done; after the restart (CLAIM_LEASE_SECONDS=5, so the dead process's claim runs out in seconds)
 * the same job finishes: every notice rejected exactly once, with one claim, one rejection and one
 * email each, and the audit chain still verifies. The in-process version of this (a crash injected
 * between a notice's commit and the job's record of it) is in tests/integration/bulk-review.test.ts;
 * this one proves the server's own worker picks the job up again.
 */
const NOTICES = 300;
const KILL_AFTER = 20;

describe('when the server dies in the middle of a bulk job', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let app: AppProcess | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await app?.stop();
    await database?.drop();
  });

  it('when the process is killed half-way through a bulk reject, then after the restart the job finishes and no notice is decided twice', async () => {
    const source = await makeSource(database.db);
    const items = [await makeItem(database.db, source), await makeItem(database.db, source), await makeItem(database.db, source)];
    const moderator = await createStaff(database.db, { role: 'moderator', name: 'Ana Moderator' });
    const token = await tokenFor(database.db, moderator);
    const adminToken = await tokenFor(database.db, await createStaff(database.db, { role: 'admin' }));
    app = await startApp({ DATABASE_URL: database.url, CLAIM_LEASE_SECONDS: '5' });

    for (let i = 0; i < NOTICES; i++) {
      const res = await call(app.url, 'POST', '/api/v1/notices', { body: noticeBody(`bulk${i}`, [items[i % items.length].originalUrl]) });
      expect(res.status).toBe(201);
    }
    const started = await call(app.url, 'POST', '/api/v1/notices/bulk', {
      token,
      body: { action: 'reject', filter: { source: source.id, status: 'pending' }, reason: 'The article is licensed to us.' },
    });
    expect(started.status).toBe(202);
    expect(started.body.total).toBe(NOTICES);
    const jobId: string = started.body.id;
    const progress = async () =>
      (
        await database.db.query(
          `SELECT j.status, j.attempts, j.claimed_by IS NOT NULL AS claimed,
                  (SELECT count(*)::int FROM bulk_job_items i WHERE i.job_id = j.id AND i.ok IS NOT NULL) AS done
             FROM bulk_jobs j WHERE j.id = $1`,
          [jobId],
        )
      )[0] as { status: string; attempts: number; claimed: boolean; done: number };

    // The worker (every second) takes the job; kill the process once it is a few notices in.
    await waitFor('the bulk-jobs worker to be part-way through the job', async () => (await progress()).done >= KILL_AFTER, 60_000, 20);
    await app.kill('SIGKILL');
    const killed = await progress();
    expect(killed).toMatchObject({ status: 'running', attempts: 1, claimed: true });
    expect(killed.done).toBeLessThan(NOTICES);
    const [{ n: rejectedAtKill }] = await database.db.query(`SELECT count(*)::int AS n FROM notices WHERE status = 'rejected'`);

    await app.restart();
    await waitFor('the job to be done after the restart', async () => (await progress()).status === 'done', 120_000, 100);

    const job = await call(app.url, 'GET', `/api/v1/jobs/${jobId}`, { token });
    expect(job.status).toBe(200);
    expect(job.body).toMatchObject({ status: 'done', total: NOTICES, done: NOTICES });
    expect(job.body.results.filter((r: { ok: boolean }) => !r.ok)).toEqual([]);
    expect((await progress()).attempts).toBe(2);

    // Each notice: rejected, one claim and one rejection event (both tagged with the job), one email.
    const rows: { status: string; claimed: number; rejected: number; emails: number }[] = await database.db.query(
      `SELECT n.status,
              (SELECT count(*)::int FROM audit_events a WHERE a.subject_id = n.reference AND a.action = 'notice.claimed' AND a.request_id = $1) AS claimed,
              (SELECT count(*)::int FROM audit_events a WHERE a.subject_id = n.reference AND a.action = 'notice.rejected' AND a.request_id = $1) AS rejected,
              (SELECT count(*)::int FROM outbound_emails e WHERE e.notice_id = n.id AND e.template = 'notice-rejected') AS emails
         FROM notices n`,
      [`bulk:${jobId}`],
    );
    expect(rows).toHaveLength(NOTICES);
    const wrong = rows.filter((r) => r.status !== 'rejected' || r.claimed !== 1 || r.rejected !== 1 || r.emails !== 1);
    expect(wrong).toEqual([]);
    expect(
      await database.db.query(
        `SELECT action, count(*)::int AS n FROM audit_events WHERE action LIKE 'bulk_job.%' GROUP BY action ORDER BY action`,
      ),
    ).toEqual([
      { action: 'bulk_job.completed', n: 1 },
      { action: 'bulk_job.created', n: 1 },
    ]);

    const verify = await call(app.url, 'GET', '/api/v1/audit/verify', { token: adminToken });
    expect(verify.status).toBe(200);
    expect(verify.body).toMatchObject({ ok: true, firstBadSequence: null });
    process.stdout.write(
      `bulk-job-restart (kill -9): ${killed.done} of ${NOTICES} results recorded and ${rejectedAtKill} notices rejected when the process died; ` +
        `the restarted process finished the job (attempt 2), each notice decided once\n`,
    );
  });
});
