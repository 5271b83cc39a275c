import { randomUUID } from 'node:crypto';
import { withTransaction } from '../../src/db/transaction';
import { record, sealAuditChain, verifyAuditChain } from '../../src/modules/audit';
import { redactExpiredPersonalData, REDACTED, REDACTED_EMAIL } from '../../src/modules/notices';
import { loadConfig } from '../../src/config';
import { ManualClock } from '../../src/shared/clock';
import { createTestContext, TestContext, truncateAll } from '../support/context';

const DAY = 86_400_000;
const NOW = new Date('2027-06-01T00:00:00Z');

async function insertNotice(t: TestContext, reference: string, status: string, closedDaysAgo: number, organization: string | null = null) {
  const id = randomUUID();
  const closed = new Date(NOW.getTime() - closedDaysAgo * DAY);
  const decided = ['rejected', 'spam', 'approved'].includes(status) ? closed : null;
  await t.db.query(
    `INSERT INTO notices (id, reference, status, claim_type, name, organization, email, phone, address, country, role, work_description,
                          good_faith_statement, accuracy_statement, statements_at, signature, submitted_at, channel, submitter_ip,
                          status_token_hash, decided_at, info_request, version, updated_at)
     VALUES ($1, $2, $3, 'copyright', 'Grace Hopper', $4, 'grace@private.example', '+1 555 0199', '42 Secret Lane', 'US', 'owner', 'work',
             'gf', 'acc', $5, 'Grace Hopper', $5, 'form', '192.0.2.77', repeat('a', 64), $6,
             '{"question": "Which article?", "askedAt": "x", "deadline": "y", "answer": "Mine, call me on +1 555 0199"}', 1, $7)`,
    [id, reference, status, organization, new Date(closed.getTime() - DAY), decided, closed],
  );
  await t.db.query(
    `INSERT INTO outbound_emails ("to", template, data, status, sent_at, notice_id) VALUES ('grace@private.example', 'notice-received', '{"name": "Grace Hopper"}', 'sent', now(), $1)`,
    [id],
  );
  await withTransaction(t.db, (tx) =>
    record(tx, {
      actor: { type: 'public' },
      action: 'notice.submitted',
      subject: { type: 'notice', id: reference },
      details: { status },
      at: new Date(),
    }),
  );
  return id;
}

describe('personal data retention', () => {
  let t: TestContext;
  const clock = new ManualClock(NOW);
  beforeAll(async () => {
    t = await createTestContext({ clock, env: { PERSONAL_DATA_RETENTION_DAYS: '30' } });
  });
  afterAll(() => t.close());
  beforeEach(() => truncateAll(t.db));

  it('when closed notices are older than the retention period, then their personal data is redacted in place, audited once, and the chain still verifies', async () => {
    await insertNotice(t, 'TD-000001', 'rejected', 31);
    await insertNotice(t, 'TD-000002', 'spam', 400, 'Press Corp');
    await insertNotice(t, 'TD-000003', 'withdrawn', 45);
    await insertNotice(t, 'TD-000004', 'rejected', 29); // within the period
    await insertNotice(t, 'TD-000005', 'approved', 400); // not a closed-without-action notice
    await sealAuditChain(t.db);
    const before: { id: string; hash: string }[] = await t.db.query('SELECT id::text, hash FROM audit_events ORDER BY id');

    // Two instances at once: SKIP LOCKED gives each notice to one of them.
    const [a, b] = await Promise.all([redactExpiredPersonalData(t), redactExpiredPersonalData(t)]);
    expect(a + b).toBe(3);
    expect(await redactExpiredPersonalData(t)).toBe(0);

    const rows = await t.db.query(
      `SELECT reference, name, organization, email, phone, address, signature, submitter_ip, info_request, personal_data_redacted_at FROM notices ORDER BY reference`,
    );
    for (const r of rows.slice(0, 3)) {
      expect(r).toMatchObject({
        name: REDACTED,
        email: REDACTED_EMAIL,
        phone: null,
        address: REDACTED,
        signature: REDACTED,
        submitter_ip: null,
      });
      expect(r.info_request).toMatchObject({ question: 'Which article?', answer: REDACTED });
      expect(r.personal_data_redacted_at).toEqual(NOW);
    }
    expect(rows[1].organization).toBe('Press Corp');
    for (const r of rows.slice(3))
      expect(r).toMatchObject({ name: 'Grace Hopper', email: 'grace@private.example', personal_data_redacted_at: null });

    const emails = await t.db.query(
      `SELECT n.reference, e."to", e.data FROM outbound_emails e JOIN notices n ON n.id = e.notice_id ORDER BY n.reference`,
    );
    expect(emails.slice(0, 3).map((e: { to: string }) => e.to)).toEqual([REDACTED_EMAIL, REDACTED_EMAIL, REDACTED_EMAIL]);
    expect(emails[3].to).toBe('grace@private.example');

    const events = await t.db.query(
      `SELECT subject_id, actor_type, details FROM audit_events WHERE action = 'notice.redacted' ORDER BY subject_id`,
    );
    expect(events.map((e: { subject_id: string }) => e.subject_id)).toEqual(['TD-000001', 'TD-000002', 'TD-000003']);
    expect(events[0]).toMatchObject({ actor_type: 'system', details: { status: 'rejected', retentionDays: 30 } });
    expect(JSON.stringify(events)).not.toContain('Grace');

    await sealAuditChain(t.db);
    const after: { id: string; hash: string }[] = await t.db.query('SELECT id::text, hash FROM audit_events ORDER BY id');
    expect(after.slice(0, before.length)).toEqual(before); // earlier events untouched
    expect((await verifyAuditChain(t.db)).ok).toBe(true);
  });

  it('when the retention setting is not a whole number of days from 1 to 3650, then the configuration is refused naming it', () => {
    expect(() => loadConfig({ PERSONAL_DATA_RETENTION_DAYS: '0' })).toThrow(/PERSONAL_DATA_RETENTION_DAYS/);
    expect(() => loadConfig({ PERSONAL_DATA_RETENTION_DAYS: 'a year' })).toThrow(/PERSONAL_DATA_RETENTION_DAYS/);
    expect(loadConfig({ PERSONAL_DATA_RETENTION_DAYS: '90' }).policy.personalDataRetentionDays).toBe(90);
    expect(loadConfig({}).policy.personalDataRetentionDays).toBe(365);
  });
});
