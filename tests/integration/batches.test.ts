import request from 'supertest';
import { processBatches } from '../../src/modules/batches';
import type { MailWorker } from '../../src/modules/mail';
import { ManualClock, systemClock } from '../../src/shared/clock';
import { createLogger } from '../../src/shared/logger';
import type { TestContext } from '../support/context';
import { makeItem, makeSource } from '../support/factories';
import { createMailingContext, MailingContext } from '../support/mailing';
import { PortalAgent, portalToken, readySubmitter } from '../support/portal';
import type { SmtpSink } from '../support/smtp-sink';
import { createStaff, csrfOf, tokenFor } from '../support/staff';

const RIGHTS = 'rights@analytical.example';

describe('batches: one notice per work, bad rows reported by number, a durable job that resumes without duplicates', () => {
  const clock = new ManualClock(new Date('2026-12-01T10:00:00Z'));
  let t: TestContext;
  let sink: SmtpSink;
  let worker: MailWorker;
  let mailing: MailingContext;
  let pages: string[];
  let agent: PortalAgent;
  let token: string;

  const rows = (sql: string, params: unknown[] = []) => t.db.query(sql, params);
  const run = (opts = {}) => processBatches({ ...t, logger: createLogger('silent') }, opts);
  const post = (body: unknown) =>
    request(t.app)
      .post('/api/v1/batches')
      .set('Authorization', `Bearer ${token}`)
      .send(body as object);
  const postCsv = (csv: string) =>
    request(t.app).post('/api/v1/batches').set('Authorization', `Bearer ${token}`).set('Content-Type', 'text/csv').send(csv);
  const get = (path: string) => request(t.app).get(path).set('Authorization', `Bearer ${token}`);

  /** A signed-in submitter with a profile, standing statements and an API token, all through the portal. */
  const readyWithToken = async (email: string) => {
    const a = await readySubmitter(t.app, worker, sink, email);
    return { agent: a, token: await portalToken(a, 'batches') };
  };

  beforeAll(async () => {
    mailing = await createMailingContext({ clock, workerClock: systemClock, env: { INTAKE_PER_HOUR: '10000' } });
    ({ t, sink, worker } = mailing);
  });
  afterAll(() => mailing.close());
  beforeEach(async () => {
    await mailing.reset();
    clock.set(new Date('2026-12-01T10:00:00Z'));
    const source = await makeSource(t.db, { name: 'Harbour Gazette', domains: ['harbourgazette.example'] });
    pages = [];
    for (let i = 0; i < 6; i++) pages.push(`http://localhost:3000/items/${(await makeItem(t.db, source)).slug}`);
    ({ agent, token } = await readyWithToken(RIGHTS));
  });

  it('when a JSON batch has good and bad works, then the bad ones are refused by number, each good work becomes one notice, and the per-URL results show matches and outcomes', async () => {
    const res = await post({
      works: [
        {
          description: 'Notes on the Engine, chapter 1',
          originalUrls: ['https://analytical.example/notes-1'],
          infringingUrls: [pages[0], 'https://elsewhere.example/copy', pages[0] + '?utm_source=x'],
        },
        { description: 'short', infringingUrls: [pages[1]] },
        { description: 'Notes on the Engine, chapter 2', infringingUrls: [pages[2], 'javascript:alert(1)'] },
        { description: 'Notes on the Engine, chapter 3', infringingUrls: [pages[0]] },
        { description: 'Notes on the Engine, chapter 4', infringingUrls: [] },
      ],
    }).expect(202);
    expect(res.body).toMatchObject({ status: 'queued', works: 2, urls: 3 });
    expect(res.body.errors).toEqual([
      { row: 2, message: 'Describe the work in 10 to 5,000 characters.' },
      { row: 3, message: expect.stringMatching(/^Infringing URL: .*http/) },
      { row: 4, message: 'This URL is already in the work of row 1.' },
      { row: 5, message: 'List at least one infringing URL (infringingUrls).' },
    ]);
    expect(await rows(`SELECT position, "row", infringing_urls FROM batch_works ORDER BY position`)).toEqual([
      { position: 1, row: 1, infringing_urls: [pages[0], 'https://elsewhere.example/copy'] },
      { position: 2, row: 3, infringing_urls: [pages[2]] },
    ]);
    expect(await rows(`SELECT id FROM notices`)).toHaveLength(0);
    const queued = await agent.get(`/portal/batches/${res.body.id}`).expect(200);
    expect(queued.headers.refresh).toBe('2');
    expect(queued.text).toContain('<progress max="100" value="0"');
    expect(queued.text).toContain('Row 4: This URL is already in the work of row 1.');

    expect(await run()).toBe(1);
    const list = await agent.get('/portal/batches').expect(200);
    expect(list.text).toMatch(/<progress max="100" value="100"[^>]*>100%<\/progress> done/);
    const status = await get(`/api/v1/batches/${res.body.id}`).expect(200);
    expect(status.body).toMatchObject({ id: res.body.id, status: 'done', works: 2, urls: 3, processed: 3 });
    expect(status.body.notices).toHaveLength(2);
    const notices = await rows(
      `SELECT reference, email, channel, status, statements_source, work_description, original_urls FROM notices ORDER BY reference`,
    );
    expect(notices).toEqual([
      {
        reference: status.body.notices[0],
        email: RIGHTS,
        channel: 'api',
        status: 'pending',
        statements_source: 'standing',
        work_description: 'Notes on the Engine, chapter 1',
        original_urls: ['https://analytical.example/notes-1'],
      },
      {
        reference: status.body.notices[1],
        email: RIGHTS,
        channel: 'api',
        status: 'pending',
        statements_source: 'standing',
        work_description: 'Notes on the Engine, chapter 2',
        original_urls: [],
      },
    ]);
    const urls = await get(`/api/v1/batches/${res.body.id}/urls`).expect(200);
    expect(urls.body).toEqual({
      urls: [
        { url: pages[0], matched: true, noticeReference: status.body.notices[0], outcome: 'pending' },
        { url: 'https://elsewhere.example/copy', matched: false, noticeReference: status.body.notices[0], outcome: 'not_found' },
        { url: pages[2], matched: true, noticeReference: status.body.notices[1], outcome: 'pending' },
      ],
      nextCursor: null,
    });
    expect(
      (await rows(`SELECT action FROM audit_events WHERE action LIKE 'batch.%' ORDER BY id`)).map((r: { action: string }) => r.action),
    ).toEqual(['batch.created', 'batch.completed']);
    expect(await run()).toBe(0);
  });

  it('when a CSV with a BOM, semicolons and a quoted newline has bad rows, then they are refused by spreadsheet row number and the rows of one description form one work', async () => {
    const csv =
      '\uFEFFwork_description;original_url;infringing_url\r\n' +
      `"Notes on the Engine;\nchapter 1";https://analytical.example/notes-1;${pages[0]}\r\n` +
      `"Notes on the Engine;\nchapter 1";;${pages[1]}\r\n` +
      `Notes on the Engine, chapter 2;;not a url\r\n` +
      `Notes on the Engine, chapter 2;${pages[2]}\r\n` +
      `Notes on the Engine, chapter 3;;${pages[3]}\r\n`;
    const res = await postCsv(csv).expect(202);
    expect(res.body).toMatchObject({ works: 2, urls: 3 });
    expect(res.body.errors).toEqual([
      { row: 4, message: expect.stringMatching(/^Infringing URL: /) },
      { row: 5, message: 'Expected 3 fields (work_description, original_url, infringing_url), found 2.' },
    ]);
    expect(await rows(`SELECT "row", description, original_urls, infringing_urls FROM batch_works ORDER BY position`)).toEqual([
      {
        row: 2,
        description: 'Notes on the Engine;\nchapter 1',
        original_urls: ['https://analytical.example/notes-1'],
        infringing_urls: [pages[0], pages[1]],
      },
      { row: 6, description: 'Notes on the Engine, chapter 3', original_urls: [], infringing_urls: [pages[3]] },
    ]);

    // A wrong header, or nothing usable: 422, nothing written.
    const header = await postCsv('description,url\r\nx,y\r\n').expect(422);
    expect(header.body.errors[0].message).toMatch(/work_description,original_url,infringing_url/);
    const nothing = await postCsv('work_description,original_url,infringing_url\r\nshort,,nope\r\n').expect(422);
    expect(nothing.body.errors.map((e: { row: number }) => e.row)).toEqual([2]);
    expect(await rows(`SELECT id FROM batches`)).toHaveLength(1);
  });

  it("when the process dies after a work's notice committed, then the resumed job (after the lease) finishes the batch without a second notice for that work", async () => {
    const res = await post({
      works: [1, 2, 3].map((n) => ({ description: `Notes on the Engine, chapter ${n}`, infringingUrls: [pages[n]] })),
    }).expect(202);
    await expect(
      run({
        afterNotice: (w: { position: number }) => {
          if (w.position === 2) throw new Error('simulated crash');
        },
      }),
    ).rejects.toThrow('simulated crash');
    expect(await rows(`SELECT count(*)::int AS n FROM notices`)).toEqual([{ n: 2 }]);
    expect(await rows(`SELECT position, notice_id IS NOT NULL AS has FROM batch_works ORDER BY position`)).toEqual([
      { position: 1, has: true },
      { position: 2, has: false },
      { position: 3, has: false },
    ]);
    // Its lease still runs: nobody takes the batch over yet.
    expect(await run()).toBe(0);
    // The dead process's lease runs out (liveness is PostgreSQL's clock: src/db/leases.ts): its registration expires.
    clock.set(new Date(clock.now().getTime() + 3 * 60_000));
    await rows(`UPDATE worker_instances SET expires_at = now() - interval '1 second' WHERE expires_at > now()`);
    expect(await run()).toBe(1);

    const status = await get(`/api/v1/batches/${res.body.id}`).expect(200);
    expect(status.body).toMatchObject({ status: 'done', processed: 3 });
    const notices = await rows(`SELECT reference, work_description FROM notices ORDER BY reference`);
    expect(notices.map((n: { work_description: string }) => n.work_description)).toEqual(
      [1, 2, 3].map((n) => `Notes on the Engine, chapter ${n}`),
    );
    expect(new Set(status.body.notices)).toEqual(new Set(notices.map((n: { reference: string }) => n.reference)));
    expect(await rows(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'notice.submitted'`)).toEqual([{ n: 3 }]);
  });

  it("when the caller is not a ready submitter (no token, a staff token, no standing statements) or asks for another's batch, then 401, 422 or 404 and nothing is written", async () => {
    const body = { works: [{ description: 'Notes on the Engine, chapter 1', infringingUrls: [pages[0]] }] };
    await request(t.app).post('/api/v1/batches').send(body).expect(401);
    const staff = await tokenFor(t.db, await createStaff(t.db, { role: 'admin' }));
    await request(t.app).post('/api/v1/batches').set('Authorization', `Bearer ${staff}`).send(body).expect(401);
    const csrf = await csrfOf(agent, '/portal/profile');
    await agent.post('/portal/statements/withdraw').type('form').send({ _csrf: csrf }).expect(303);
    const notReady = await post(body).expect(422);
    expect(notReady.body.errors[0].field).toBe('statements');
    expect(await rows(`SELECT id FROM batches`)).toHaveLength(0);

    const other = await readyWithToken('other@rights.example');
    const theirs = await request(t.app).post('/api/v1/batches').set('Authorization', `Bearer ${other.token}`).send(body).expect(202);
    await get(`/api/v1/batches/${theirs.body.id}`).expect(404);
    await get(`/api/v1/batches/${theirs.body.id}/urls`).expect(404);
    await get('/api/v1/batches/not-a-uuid').expect(404);
  });
});
