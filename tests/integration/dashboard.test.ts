import request from 'supertest';
import { User } from '../../src/modules/auth';
import { teamDashboard } from '../../src/modules/reports/dashboard';
import { dashboardFigures } from '../../src/modules/reports/dashboard.routes';
import { ManualClock } from '../../src/shared/clock';
import { createTestContext, TestContext, truncateAll } from '../support/context';
import { createStaff, signedInAgent } from '../support/staff';

const NOW = new Date('2026-11-30T12:00:00Z');
const H = 3_600_000;
const ago = (hours: number) => new Date(NOW.getTime() - hours * H);

/** The team dashboard (SPEC §15): every figure checked against rows seeded for it. */
describe('team dashboard GET /dashboard', () => {
  let t: TestContext;
  let ana: User;
  let ben: User;
  let seq = 0;

  /** A notice row as the use cases leave it (only the columns the dashboard reads vary). */
  const notice = async (o: { status: string; submitted: Date; due?: Date; decided?: Date; by?: User; decision?: string }) => {
    seq += 1;
    const [row] = await t.db.query(
      `INSERT INTO notices (reference, status, name, email, address, country, role, work_description, good_faith_statement, accuracy_statement,
                            statements_at, signature, submitted_at, channel, status_token_hash, flags, queued_at, due_at, decided_at, decided_by, decision, version)
       VALUES ($1::text, $2, 'C', 'c@x.example', 'A', 'US', 'owner', 'W', 'g', 'a', $3, 'C', $3, 'api', md5($1::text) || md5($1::text), '[]', $3, $4, $5, $6, $7, 1)
       RETURNING id`,
      [`TD-${String(seq).padStart(6, '0')}`, o.status, o.submitted, o.due ?? null, o.decided ?? null, o.by?.id ?? null, o.decision ?? null],
    );
    return row.id as string;
  };
  const counterNotice = (noticeId: string, received: Date, restored: Date | null) =>
    t.db.query(
      `INSERT INTO counter_notices (notice_id, status, urls, item_ids, name, email, phone, address, country, mistake_statement, consent_statement,
                                    statements_at, signature, channel, received_at, restore_after, restored_at)
       VALUES ($1, $2, '{}', '{}', 'S', 's@x.example', '1', 'A', 'US', 'm', 'c', $3, 'S', 'api', $3, $4, $5)`,
      [noticeId, restored ? 'restored' : 'received', received, new Date(received.getTime() + 14 * 24 * H), restored],
    );

  beforeAll(async () => {
    t = await createTestContext({ clock: new ManualClock(NOW) });
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await truncateAll(t.db);
    ana = await createStaff(t.db, { role: 'moderator', email: 'ana@desk.example' });
    ben = await createStaff(t.db, { role: 'admin', email: 'ben@desk.example' });
    await t.db.query(`UPDATE users SET name = CASE WHEN id = $1 THEN 'Ana Ortega' ELSE 'Ben Brandt' END`, [ana.id]);
  });

  const seed = async () => {
    // Backlog: ages 2 h, 30 h (overdue), 100 h, 10 days, 40 days (needs_info: waits on the complainant, never overdue).
    await notice({ status: 'pending', submitted: ago(2), due: ago(-46) });
    await notice({ status: 'pending', submitted: ago(30), due: ago(1) });
    await notice({ status: 'in_review', submitted: ago(100), due: ago(52) });
    await notice({ status: 'in_review', submitted: ago(240), due: ago(192) });
    await notice({ status: 'needs_info', submitted: ago(960), due: ago(10) });
    // Decisions in the window: Ana 3 today (4 h, 10 h, 20 h to decide), Ben 1 yesterday (2 h); times to decision 2, 4, 10, 20.
    const approved = await notice({ status: 'approved', submitted: ago(5), decided: ago(1), by: ana, decision: 'approved' });
    await notice({ status: 'rejected', submitted: ago(11), decided: ago(1), by: ana, decision: 'rejected' });
    const partly = await notice({ status: 'countered', submitted: ago(22), decided: ago(2), by: ana, decision: 'partly_approved' });
    await notice({ status: 'spam', submitted: ago(26), decided: ago(24), by: ben, decision: 'spam' });
    // Not counted: decided before the window, and withdrawn by the complainant (no moderator).
    const old = await notice({ status: 'approved', submitted: ago(40 * 24 + 5), decided: ago(40 * 24), by: ben, decision: 'approved' });
    await notice({ status: 'withdrawn', submitted: ago(3), decided: ago(2), decision: 'withdrawn' });
    // Counter-notices: one received in the window (on the partly approved), one on the old removal, restored in the window.
    await counterNotice(partly, ago(1), null);
    await counterNotice(old, ago(35 * 24), ago(3));
    return { approved };
  };

  it('when notices are open, decided and counter-noticed, then every figure counts exactly the rows that belong to it', async () => {
    await seed();
    const d = await teamDashboard(t.db.manager, NOW);
    expect(d.from).toBe('2026-11-01');
    expect(d.to).toBe('2026-11-30');
    expect(d.backlog.map((b) => [b.bucket, b.pending, b.in_review, b.needs_info])).toEqual([
      ['lt1d', 1, 0, 0],
      ['1to2d', 1, 0, 0],
      ['2to7d', 0, 1, 0],
      ['7to30d', 0, 1, 0],
      ['gt30d', 0, 0, 1],
    ]);
    expect(d.open).toBe(5);
    expect(d.overdue).toBe(3);
    expect(d.decisions).toBe(4);
    expect(d.moderators.map((m) => [m.name, m.total, m.perDay[29], m.perDay[28]])).toEqual([
      ['Ana Ortega', 3, 3, 0],
      ['Ben Brandt', 1, 0, 1],
    ]);
    // Times 2, 4, 10, 20 hours: median 7, 90th percentile 20 − 0.3 × 10 = 17 (continuous).
    expect(d.timeToDecision.medianHours).toBe(7);
    expect(d.timeToDecision.p90Hours).toBe(17);
    expect(d.timeToDecision.perDay[29]).toEqual({ day: '2026-11-30', n: 3, medianHours: 10, p90Hours: 18 });
    expect(d.removals).toBe(2);
    expect(d.counterNotices).toBe(1);
    expect(d.restorations).toBe(1);
    expect(d.counterNoticeRate).toBe(50);
    expect(d.restorationRate).toBe(50);
  });

  it('when a moderator opens the dashboard, then each chart is an SVG with a table of the same figures under it', async () => {
    await seed();
    const res = await (await signedInAgent(t.app, ana.email)).get('/dashboard').expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text.match(/<svg [^>]*role="img"/g)).toHaveLength(3);
    expect(res.text).toContain('<title id="chart-backlog-t">Open notices by age</title>');
    expect(res.text).toMatch(/<tr><th scope="row">1–2 days<\/th><td>1<\/td><td>0<\/td><td>0<\/td><td>1<\/td><\/tr>/);
    expect(res.text).toMatch(/<dt>Overdue<\/dt><dd><strong class="error-text">3<\/strong>/);
    expect(res.text).toMatch(/<tr><th scope="row">2026-11-30<\/th><td>3<\/td><td>0<\/td><td>3<\/td><\/tr>/);
    expect(res.text).toMatch(/<tr><th scope="row">2026-11-30<\/th><td>3<\/td><td>10<\/td><td>18<\/td><\/tr>/);
    expect(res.text).toContain('50% (1 counter-notices for 2 removals)');
    expect(res.text).toContain('<dt>Median time to decision</dt><dd>7 hours</dd>');
  });

  it('when the figures were computed within the period, then they are served again without reading; past five periods a visitor waits for new ones', async () => {
    await seed();
    let now = 0;
    const realNow = Date.now;
    Date.now = () => now;
    try {
      const figures = dashboardFigures(t, 30_000);
      expect((await figures()).decisions).toBe(4);
      await notice({ status: 'rejected', submitted: ago(3), decided: ago(1), by: ben, decision: 'rejected' });
      now = 29_000;
      expect((await figures()).decisions).toBe(4);
      // Stale but recent: served at once, refreshed behind.
      now = 31_000;
      expect((await figures()).decisions).toBe(4);
      let after = 4;
      for (let i = 0; i < 50 && after === 4; i++) {
        await new Promise((r) => setTimeout(r, 100));
        after = (await figures()).decisions;
      }
      expect(after).toBe(5);
      await notice({ status: 'rejected', submitted: ago(3), decided: ago(1), by: ben, decision: 'rejected' });
      now = 31_000 + 5 * 30_000;
      expect((await figures()).decisions).toBe(6);
    } finally {
      Date.now = realNow;
    }
  });

  it('when nothing has happened yet, then the dashboard says so instead of dividing by zero', async () => {
    const res = await (await signedInAgent(t.app, ben.email)).get('/dashboard').expect(200);
    expect(res.text).toContain('No decisions in these 30 days.');
    expect(res.text).toContain('– (no removals)');
  });

  it('when nobody is signed in, then the dashboard sends them to the login page', async () => {
    const res = await request(t.app).get('/dashboard').expect(303);
    expect(res.headers.location).toBe('/login?next=%2Fdashboard');
  });
});
