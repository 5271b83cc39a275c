import request from 'supertest';
import { seedDemoNotices } from '../../src/demo/seed-demo-notices';
import { seedDemo } from '../../src/demo/seed-demo';
import { createTestContext, TestContext } from '../support/context';
import { createStaff } from '../support/staff';

describe('demo notices on a first start', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext();
  });
  afterAll(() => t.close());

  it('when there are no notices and no admin yet, then nothing is created (no one to act)', async () => {
    await seedDemo(t);
    expect(await seedDemoNotices(t)).toBeNull();
    expect((await t.db.query('SELECT count(*)::int AS n FROM notices'))[0].n).toBe(0);
  });

  it('when the demo items and an admin exist, then four notices are pending, in review, approved (its item answers 451) and countered', async () => {
    const admin = await createStaff(t.db, { role: 'admin' });
    const made = await seedDemoNotices(t);
    expect(made).not.toBeNull();
    const refs = made!;

    const rows: { reference: string; status: string; assignee_id: string | null }[] = await t.db.query(
      'SELECT reference, status, assignee_id FROM notices ORDER BY reference',
    );
    const status = Object.fromEntries(rows.map((r) => [r.reference, r]));
    expect(status[refs.pending].status).toBe('pending');
    expect(status[refs.inReview]).toMatchObject({ status: 'in_review', assignee_id: admin.id });
    expect(status[refs.approved].status).toBe('approved');
    expect(status[refs.countered].status).toBe('countered');
    expect(rows).toHaveLength(4);

    // The approved notice removed its item: the public page answers 451 naming the notice.
    const [removed] = await t.db.query(
      `SELECT i.slug FROM items i JOIN notices n ON n.id = i.removed_by_notice_id WHERE n.reference = $1`,
      [refs.approved],
    );
    const page = await request(t.app)
      .get(`/items/${encodeURIComponent(removed.slug)}`)
      .expect(451);
    expect(page.text).toContain(refs.approved);

    // The countered notice has its counter-notice with a restoration date.
    const [cn] = await t.db.query(
      `SELECT c.restore_after FROM counter_notices c JOIN notices n ON n.id = c.notice_id WHERE n.reference = $1`,
      [refs.countered],
    );
    expect(cn.restore_after).toBeTruthy();

    // Made through the use cases: their audit events and emails are there.
    const actions: { action: string; n: number }[] = await t.db.query(
      `SELECT action, count(*)::int AS n FROM audit_events WHERE action LIKE 'notice.%' OR action LIKE 'counter_notice.%' GROUP BY action`,
    );
    const count = Object.fromEntries(actions.map((a) => [a.action, a.n]));
    expect(count).toMatchObject({
      'notice.submitted': 4,
      'notice.claimed': 3,
      'notice.approved': 2,
      'notice.countered': 1,
      'counter_notice.received': 1,
    });
    const [{ n: acks }] = await t.db.query(`SELECT count(*)::int AS n FROM outbound_emails WHERE template = 'notice-received'`);
    expect(acks).toBe(4);
  });

  it('when notices exist already, then a second run adds nothing', async () => {
    expect(await seedDemoNotices(t)).toBeNull();
    expect((await t.db.query('SELECT count(*)::int AS n FROM notices'))[0].n).toBe(4);
  });
});
