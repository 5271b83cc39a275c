import { processBatches, MAX_BATCH_BYTES } from '../../src/modules/batches';
import type { MailWorker } from '../../src/modules/mail';
import { ManualClock, systemClock } from '../../src/shared/clock';
import { createLogger } from '../../src/shared/logger';
import type { TestContext } from '../support/context';
import { makeItem, makeSource } from '../support/factories';
import { createMailingContext, MailingContext } from '../support/mailing';
import { PortalAgent, portalAgent, readySubmitter } from '../support/portal';
import type { SmtpSink } from '../support/smtp-sink';
import { csrfOf } from '../support/staff';

const RIGHTS = 'rights@upload.example';
const HEADER = 'work_description,original_url,infringing_url\r\n';
const REASON = 'Repeated manifestly unfounded notices.';

describe('the portal batch upload: a CSV file through the API path, its progress watched until done', () => {
  const clock = new ManualClock(new Date('2026-12-01T10:00:00Z'));
  let t: TestContext;
  let sink: SmtpSink;
  let worker: MailWorker;
  let mailing: MailingContext;
  let pages: string[];
  let agent: PortalAgent;

  const rows = (sql: string, params: unknown[] = []) => t.db.query(sql, params);
  const run = () => processBatches({ ...t, logger: createLogger('silent') });
  /** The form as a browser sends it: multipart, the CSRF field first, then the file. */
  const upload = async (content: Buffer | string | null, filename = 'batch.csv', contentType = 'text/csv', as = agent) => {
    const csrf = await csrfOf(as, '/portal/batches');
    const req = as.post('/portal/batches').field('_csrf', csrf);
    return content === null ? await req : await req.attach('csv', Buffer.from(content), { filename, contentType });
  };
  const nothingWritten = async () => {
    expect(await rows(`SELECT id FROM batches`)).toEqual([]);
    expect(await rows(`SELECT id FROM batch_works`)).toEqual([]);
    expect(await rows(`SELECT id FROM audit_events WHERE action LIKE 'batch.%'`)).toEqual([]);
  };
  /** The error next to the file field (and the numbered rows under it), as text. */
  const fieldError = (html: string) => {
    expect(html).toMatch(/<input id="csv-file" name="csv" type="file"[^>]*aria-invalid="true"/);
    return /<p class="field-error" id="csv-file-error">([^<]*)<\/p>/.exec(html)?.[1] ?? '';
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
    for (let i = 0; i < 3; i++) pages.push(`http://localhost:3000/items/${(await makeItem(t.db, source)).slug}`);
    agent = await readySubmitter(t.app, worker, sink, RIGHTS);
  });

  it('when a rights holder uploads a good CSV, then the batch is written, they land on its page, which refreshes itself while it runs and says Done with every URL once the job made the notices', async () => {
    const form = await agent.get('/portal/batches').expect(200);
    expect(form.text).toMatch(/<form method="post" action="\/portal\/batches" enctype="multipart\/form-data"/);
    expect(form.text).toContain('<code>work_description,original_url,infringing_url</code>');

    const csv =
      HEADER +
      `Notes on the Engine: chapter 1,https://analytical.example/notes-1,${pages[0]}\r\n` +
      `Notes on the Engine: chapter 1,,https://elsewhere.example/copy\r\n` +
      `short,,${pages[1]}\r\n` +
      `Notes on the Engine: chapter 2,,${pages[2]}\r\n`;
    const res = await upload(csv);
    expect(res.status).toBe(303);
    const [batch] = await rows(`SELECT id, submitter_id, status, format, works, urls, processed, errors FROM batches`);
    expect(res.headers.location).toBe(`/portal/batches/${batch.id}`);
    const [submitter] = await rows(`SELECT id FROM submitters WHERE email = $1`, [RIGHTS]);
    expect(batch).toEqual({
      id: batch.id,
      submitter_id: submitter.id,
      status: 'queued',
      format: 'csv',
      works: 2,
      urls: 3,
      processed: 0,
      errors: [{ row: 4, message: 'Describe the work in 10 to 5,000 characters.' }],
    });
    expect(await rows(`SELECT "row", description, original_urls, infringing_urls FROM batch_works ORDER BY position`)).toEqual([
      {
        row: 2,
        description: 'Notes on the Engine: chapter 1',
        original_urls: ['https://analytical.example/notes-1'],
        infringing_urls: [pages[0], 'https://elsewhere.example/copy'],
      },
      { row: 5, description: 'Notes on the Engine: chapter 2', original_urls: [], infringing_urls: [pages[2]] },
    ]);
    expect(await rows(`SELECT actor_type, actor_label, details FROM audit_events WHERE action = 'batch.created'`)).toEqual([
      { actor_type: 'public', actor_label: `submitter:${RIGHTS}`, details: { format: 'csv', works: 2, urls: 3, refusedRows: 1 } },
    ]);

    // Queued: the page says how far it is and refreshes itself (no script needed).
    const queued = await agent.get(res.headers.location).expect(200);
    expect(queued.headers.refresh).toBe('2');
    expect(queued.text).toContain('Your batch of 2 works (3 URLs) was accepted');
    expect(queued.text).toContain('<h1>Batch of 2 works, 3 URLs</h1>');
    expect(queued.text).toMatch(/<p role="status" id="batch-progress"><progress max="100" value="0"/);
    expect(queued.text).toContain('This page refreshes itself until the batch is done.');
    expect(queued.text).toContain('Row 4: Describe the work in 10 to 5,000 characters.');

    expect(await run()).toBe(1);
    const notices = await rows(`SELECT reference, email, statements_source, work_description FROM notices ORDER BY reference`);
    expect(
      notices.map((n: { email: string; statements_source: string; work_description: string }) => [
        n.email,
        n.statements_source,
        n.work_description,
      ]),
    ).toEqual([
      [RIGHTS, 'standing', 'Notes on the Engine: chapter 1'],
      [RIGHTS, 'standing', 'Notes on the Engine: chapter 2'],
    ]);
    const done = await agent.get(res.headers.location).expect(200);
    expect(done.headers.refresh).toBeUndefined();
    expect(done.text).toContain('<title>Done: batch of 2 works, 3 URLs · Takedown Desk</title>');
    expect(done.text).toContain('<h1>Done: batch of 2 works, 3 URLs</h1>');
    expect(done.text).toMatch(
      /<progress max="100" value="100" aria-label="Progress">100%<\/progress>\s*<strong>done<\/strong>: 3 of 3 URLs processed\./,
    );
    expect(done.text).not.toContain('refreshes itself');
    for (const n of notices) expect(done.text).toContain(`<a href="/portal/notices/${n.reference}">${n.reference}</a>`);
    expect(done.text).toContain('<td class="url">https://elsewhere.example/copy</td><td>no</td>');
    const list = await agent.get('/portal/batches').expect(200);
    expect(list.text).toMatch(/<progress max="100" value="100"[^>]*>100%<\/progress> done/);
  });

  it('when the upload is bad (no file, not a CSV, empty, a wrong header, no usable row, over the limit), then the form says why next to the file field and nothing is written', async () => {
    const cases: [string, () => Promise<{ status: number; text: string }>, number, RegExp, RegExp?][] = [
      ['no file', () => upload(null), 422, /^Choose the CSV file to upload\.$/],
      [
        'a form without a file',
        async () =>
          agent
            .post('/portal/batches')
            .type('form')
            .send({ _csrf: await csrfOf(agent, '/portal/batches') }),
        422,
        /^Choose the CSV file/,
      ],
      ['a PDF', () => upload('%PDF-1.4\n%%EOF\n', 'letter.pdf', 'application/pdf'), 422, /^The file is not a CSV\./],
      ['a binary file named .csv', () => upload(Buffer.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0]), 'sheet.csv'), 422, /^The file is not a CSV\./],
      ['an empty file', () => upload(''), 422, /^The CSV is empty; its first row must be work_description,original_url,infringing_url\.$/],
      [
        'a wrong header',
        () => upload('description,url\r\nx,y\r\n'),
        422,
        /^The first row must be the header work_description,original_url,infringing_url\.$/,
      ],
      [
        'no usable row',
        () => upload(`${HEADER}short,,${pages[0]}\r\nNotes on the Engine: chapter 1,,not a url\r\n`),
        422,
        /^No row of the batch could be used\.$/,
        /<li>Row 2: Describe the work in 10 to 5,000 characters\.<\/li><li>Row 3: Infringing URL: /,
      ],
      ['over the limit', () => upload(HEADER + 'x'.repeat(MAX_BATCH_BYTES)), 413, /^A batch upload can be at most 20 MB\.$/],
    ];
    for (const [label, send, status, message, rowsShown] of cases) {
      const res = await send();
      expect([label, res.status]).toEqual([label, status]);
      expect([label, fieldError(res.text)]).toEqual([label, expect.stringMatching(message)]);
      if (rowsShown) expect(res.text).toMatch(rowsShown);
      expect(res.text).toContain('<h1>Your batches</h1>');
    }
    await nothingWritten();

    // A signed-in address with no profile or standing statements: told what to do first.
    const stranger = await portalAgent(t.app, worker, sink, 'new@upload.example');
    const notReady = await upload(`${HEADER}Notes on the Engine: chapter 1,,${pages[0]}\r\n`, 'batch.csv', 'text/csv', stranger);
    expect(notReady.status).toBe(422);
    expect(fieldError(notReady.text)).toBe('This submitter cannot send batches yet.');
    expect(notReady.text).toMatch(
      /<ul class="error-list" id="csv-file-rows"><li>Complete your profile[^<]*<\/li><li>Make standing statements/,
    );
    await nothingWritten();
  });

  it('when the upload comes without its CSRF token, or with one from another session, then it is refused and nothing is written', async () => {
    const good = Buffer.from(`${HEADER}Notes on the Engine: chapter 1,,${pages[0]}\r\n`);
    const missing = await agent.post('/portal/batches').attach('csv', good, { filename: 'batch.csv', contentType: 'text/csv' });
    expect(missing.status).toBe(403);
    expect(missing.text).toMatch(/did not come from this site/);
    const other = await readySubmitter(t.app, worker, sink, 'other@upload.example');
    const foreign = await agent
      .post('/portal/batches')
      .field('_csrf', await csrfOf(other, '/portal/batches'))
      .attach('csv', good, { filename: 'batch.csv', contentType: 'text/csv' });
    expect(foreign.status).toBe(403);
    await nothingWritten();
    // The right token: the same upload works (the refusals were the token's doing).
    expect((await upload(good)).status).toBe(303);
  });

  it('when a suspended submitter uploads a good CSV, then it is 403 saying until when and why, and nothing is written', async () => {
    await rows(`UPDATE submitters SET suspended_until = '2026-12-31T00:00:00Z', suspension_reason = $1 WHERE email = $2`, [REASON, RIGHTS]);
    const page = await agent.get('/portal/batches').expect(200);
    expect(page.text).toMatch(
      /id="refused"><p><strong>Your notices are refused for now\.<\/strong> Your notices are refused until 2026-12-31T00:00:00\.000Z/,
    );
    const res = await upload(`${HEADER}Notes on the Engine: chapter 1,,${pages[0]}\r\n`);
    expect(res.status).toBe(403);
    expect(fieldError(res.text)).toBe(`Your notices are refused until 2026-12-31T00:00:00.000Z because: ${REASON}`);
    await nothingWritten();
    // Even without a file, the suspension is what they are told.
    expect(fieldError((await upload(null)).text)).toMatch(/^Your notices are refused until/);
  });
});
