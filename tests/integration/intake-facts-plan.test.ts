import { Client } from 'pg';
import { itemMatch } from '../../src/modules/items';
import { intakeFactsStatement } from '../../src/modules/notices/notices.queries';
import { submitNoticeFor } from '../support/approve-fixture';
import { createTestContext, TestContext } from '../support/context';

/**
 * The triage facts' statement runs with a generic plan made once per connection (db/prepared.ts),
 * often while the tables are still small: on a new desk, or on the bench's fresh database. Its
 * duplicate check must stay bounded whatever plan that was: it reads at most 50 open notices,
 * however many name the URL. (As a join, the plan made on an empty `notices` hashed every open
 * notice on every call: 5 ms per notice once 3,000 open notices named one URL.)
 */
describe('the triage facts statement', () => {
  let t: TestContext;
  let c: Client;
  beforeAll(async () => {
    t = await createTestContext();
    c = new Client({ connectionString: t.dbUrl });
    await c.connect();
  });
  afterAll(async () => {
    await c.end();
    await t.close();
  });

  type PlanNode = { 'Relation Name'?: string; 'Actual Rows': number; 'Actual Loops': number; Plans?: PlanNode[] };
  const rowsReadFrom = (node: PlanNode, table: string): number =>
    (node['Relation Name'] === table ? node['Actual Rows'] * node['Actual Loops'] : 0) +
    (node.Plans ?? []).reduce((sum, child) => sum + rowsReadFrom(child, table), 0);

  it('when its generic plan was made on an empty table and 300 open notices then name one URL, then a new notice reads at most 50 of them and still finds the duplicates', async () => {
    const url = 'https://elsewhere.example/popular';
    // The statement as the intake runs it (with the registry match), named, as queryPrepared runs it.
    const facts = (email: string) => {
      const { sql, params } = intakeFactsStatement(
        { email, ip: '192.0.2.1', since: new Date(Date.now() - 3_600_000), cap: 10, normalisedUrls: [url], withModerators: false },
        itemMatch([url], { baseUrl: t.config.publicBaseUrl }),
      );
      return c.query({ name: 'facts', text: sql, values: params });
    };
    // Each execution's plan, with its row counts, comes back as a NOTICE (auto_explain).
    const plans: string[] = [];
    c.on('notice', (msg) => plans.push(msg.message ?? ''));
    await c.query(`LOAD 'auto_explain'`);
    for (const setting of [
      'plan_cache_mode = force_generic_plan',
      'auto_explain.log_min_duration = 0',
      'auto_explain.log_analyze = on',
      'auto_explain.log_format = json',
      'auto_explain.log_level = notice',
    ])
      await c.query(`SET ${setting}`);
    expect((await facts('first@example.org')).rows[0].duplicates).toEqual([]);

    const first = await submitNoticeFor(t.app, [url]);
    // 299 more open notices like it, each with its one target naming the URL.
    await c.query(
      `INSERT INTO notices
       SELECT (jsonb_populate_record(NULL::notices, to_jsonb(n) || jsonb_build_object(
                 'id', gen_random_uuid(), 'reference', 'TD-9' || lpad(g::text, 5, '0'), 'status_token_hash', md5(g::text)))).*
         FROM notices n, generate_series(1, 299) g WHERE n.reference = $1`,
      [first.reference],
    );
    await c.query(
      `INSERT INTO notice_targets
       SELECT (jsonb_populate_record(NULL::notice_targets, to_jsonb(t) || jsonb_build_object('id', gen_random_uuid(), 'notice_id', n.id))).*
         FROM notice_targets t JOIN notices f ON f.id = t.notice_id AND f.reference = $1, notices n WHERE n.reference LIKE 'TD-9%'`,
      [first.reference],
    );
    expect((await c.query(`SELECT count(*)::int AS n FROM notice_targets WHERE normalised_url = $1`, [url])).rows[0].n).toBe(300);

    plans.length = 0;
    const [row] = (await facts('second@example.org')).rows;
    expect(plans).toHaveLength(1);
    const plan = JSON.parse(plans[0].slice(plans[0].indexOf('{')));
    expect(rowsReadFrom(plan.Plan, 'notices')).toBeLessThanOrEqual(50 + 2 * 10); // the duplicates' 50, the sender counts' 10 each
    expect(row.duplicates).toHaveLength(50);
    expect(row.duplicates.every((r: string) => /^TD-\d{6}$/.test(r))).toBe(true);
  });
});
