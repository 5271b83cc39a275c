import request from 'supertest';
import { User } from '../../src/modules/auth';
import { Item, Source } from '../../src/modules/items';
import { createLeaseHolder } from '../../src/db/leases';
import { withTransaction } from '../../src/db/transaction';
import { createInboundWorker, InboundWorker, storeInboundEmail } from '../../src/modules/inbound';
import { createLogger } from '../../src/shared/logger';
import { noticeIdOfReplyAddress } from '../../src/shared/reply-key';
import { makeItem, makeSource } from '../support/factories';
import { AGENT, completeLetter, incompleteLetter, rawEmail } from '../support/inbound-mail';
import { createMailingContext, MailingContext } from '../support/mailing';
import { createStaff, tokenFor } from '../support/staff';

const BASE = 'http://localhost:3000';
const ADA = 'ada@analytical.example';

describe('the mailbox: emails to the designated agent become notices (POST /api/v1/inbound-emails)', () => {
  let m: MailingContext;
  let inbound: InboundWorker;
  let admin: User;
  let adminToken: string;
  let modToken: string;
  let source: Source;
  let item: Item;

  beforeAll(async () => {
    m = await createMailingContext({
      env: {
        INBOUND_AUTH_DNS: 'off',
        DMCA_AGENT_EMAIL: AGENT,
        INBOUND_REPLIES_PER_HOUR: '3',
        INTAKE_PER_HOUR: '1000',
        SENDER_BURST: '100',
      },
    });
    inbound = createInboundWorker({ ...m.t, logger: createLogger('silent') });
  });
  afterAll(() => m.close());
  beforeEach(async () => {
    await m.reset();
    admin = await createStaff(m.t.db, { role: 'admin', email: 'admin@desk.example' });
    adminToken = await tokenFor(m.t.db, admin);
    modToken = await tokenFor(m.t.db, await createStaff(m.t.db, { role: 'moderator', email: 'mod@desk.example' }));
    source = await makeSource(m.t.db);
    item = await makeItem(m.t.db, source);
  });

  const pageUrl = (i: Item) => `${BASE}/items/${i.slug}`;
  const post = (raw: Buffer, token = adminToken) =>
    request(m.t.app).post('/api/v1/inbound-emails').set('Authorization', `Bearer ${token}`).set('Content-Type', 'message/rfc822').send(raw);
  const api = (path: string, token = modToken) => request(m.t.app).get(`/api/v1${path}`).set('Authorization', `Bearer ${token}`);
  const rows = (sql: string, params: unknown[] = []) => m.t.db.query(sql, params);
  const actions = async (type: string, id: string) =>
    (await rows(`SELECT action FROM audit_events WHERE subject_type = $1 AND subject_id = $2 ORDER BY id`, [type, id])).map(
      (r: { action: string }) => r.action,
    );
  const send = async () => {
    await m.worker.drain();
  };
  /** Emails to anyone but the staff (whose account emails the setup sends). */
  const answered = () => m.sink.messages.filter((x) => !x.envelope.to.every((a) => a.endsWith('@desk.example')));
  /** The row's status once the parse job has finished with it (a large message can outlast the API's 5 s wait). */
  const settled = async (id: string): Promise<string> => {
    for (let i = 0; i < 600; i++) {
      const [r] = await rows(`SELECT status FROM inbound_emails WHERE id = $1`, [id]);
      if (r.status !== 'received') return r.status;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the message was never read');
  };

  it('when a complete notice is emailed, then it is stored, becomes a pending email notice with its target matched, and the acknowledgement is a threaded reply', async () => {
    const raw = rawEmail({
      messageId: '<letter-1@analytical.example>',
      subject: 'Copyright infringement on your site',
      body: completeLetter([pageUrl(item)]),
    });
    const res = await post(raw).expect(202);
    expect(res.body).toMatchObject({ status: 'notice_created', noticeReference: expect.stringMatching(/^TD-\d{6}$/) });
    const ref = res.body.noticeReference;

    const [email] = await rows(
      `SELECT way_in, message_id, from_address, subject, status, notice_id, raw FROM inbound_emails WHERE id = $1`,
      [res.body.id],
    );
    expect(email).toMatchObject({
      way_in: 'api',
      message_id: '<letter-1@analytical.example>',
      from_address: ADA,
      status: 'notice_created',
    });
    expect(Buffer.compare(email.raw, raw)).toBe(0);
    const [notice] = await rows(`SELECT id, status, channel, email, name, signature FROM notices WHERE reference = $1`, [ref]);
    expect(notice).toMatchObject({ id: email.notice_id, status: 'pending', channel: 'email', email: ADA });
    const targets = await rows(`SELECT url, item_id, outcome FROM notice_targets WHERE notice_id = $1`, [notice.id]);
    expect(targets).toEqual([expect.objectContaining({ item_id: item.id, outcome: 'pending' })]);
    expect(await actions('inbound_email', res.body.id)).toEqual(['inbound_email.received', 'inbound_email.read']);
    expect(await actions('notice', ref)).toEqual(['notice.submitted']);

    await send();
    const acks = m.sink.to(ADA);
    expect(acks).toHaveLength(1);
    const ack = acks[0].parsed;
    expect(ack.subject).toBe('Re: Copyright infringement on your site');
    expect(ack.inReplyTo).toBe('<letter-1@analytical.example>');
    expect([ack.references].flat()).toContain('<letter-1@analytical.example>');
    expect(ack.headers.get('auto-submitted')).toBe('auto-generated');
    const replyTo = ack.replyTo!.value[0].address!;
    expect(noticeIdOfReplyAddress(m.t.sessionSecret, replyTo, 'localhost')).toBe(notice.id);
    expect(ack.text).toContain(ref);
    // The moderators are told, as for a form notice.
    expect(
      m.sink
        .to('mod@desk.example')
        .map((x) => x.parsed.subject)
        .join(),
    ).toContain(ref);

    // Staff see it through the API, with the shape of SPEC §12.
    const one = await api(`/inbound-emails/${res.body.id}`).expect(200);
    expect(one.body).toMatchObject({
      id: res.body.id,
      messageId: '<letter-1@analytical.example>',
      from: ADA,
      status: 'notice_created',
      noticeReference: ref,
      auth: { spf: 'none', dkim: 'none', dmarc: 'none' },
      extracted: { goodFaith: true, accuracy: true, missing: [] },
    });
    expect(one.body.extracted.infringingUrls).toHaveLength(1);
    const list = await api('/inbound-emails?status=notice_created').expect(200);
    expect(list.body.emails.map((e: { id: string }) => e.id)).toEqual([res.body.id]);
    const staffView = await api(`/notices/${ref}`).expect(200);
    expect(staffView.body).toMatchObject({ channel: 'email', status: 'pending' });
    expect(staffView.body.targets).toHaveLength(1);
  });

  it('when the same message arrives twice (the same bytes, or the same Message-ID relayed with another header), then it is one email, one notice and one reply', async () => {
    const raw = rawEmail({ messageId: '<twice@analytical.example>', body: completeLetter([pageUrl(item)]) });
    const first = await post(raw).expect(202);
    const again = await post(raw).expect(202);
    const relayed = await post(
      Buffer.concat([Buffer.from('Received: from relay.example by mx.example; Tue, 1 Dec 2026 10:00:01 +0000\r\n'), raw]),
    ).expect(202);
    expect(again.body).toMatchObject({ id: first.body.id, duplicate: true, noticeReference: first.body.noticeReference });
    expect(relayed.body).toMatchObject({ id: first.body.id, duplicate: true });
    expect((await rows(`SELECT count(*)::int AS n FROM inbound_emails`))[0].n).toBe(1);
    expect((await rows(`SELECT count(*)::int AS n FROM notices`))[0].n).toBe(1);
    await send();
    expect(m.sink.to(ADA)).toHaveLength(1);
  });

  it('when an incomplete notice is emailed, then the notice is incomplete and out of the queue, the reply names each missing element with its paragraph, and its link completes the notice into the queue', async () => {
    const res = await post(rawEmail({ messageId: '<short@analytical.example>', body: incompleteLetter([pageUrl(item)]) })).expect(202);
    expect(res.body.status).toBe('incomplete');
    const ref = res.body.noticeReference;
    expect((await rows(`SELECT status FROM notices WHERE reference = $1`, [ref]))[0].status).toBe('incomplete');
    expect(await actions('notice', ref)).toEqual(['notice.submitted', 'notice.incomplete']);
    const queue = await api('/notices').expect(200);
    expect(queue.body.notices.map((n: { reference: string }) => n.reference)).not.toContain(ref);

    await send();
    const [reply] = m.sink.to(ADA);
    expect(reply.parsed.inReplyTo).toBe('<short@analytical.example>');
    expect(reply.parsed.text).toContain('Statement of good-faith belief');
    expect(reply.parsed.text).toContain('§ 512(c)(3)(A)(v)');
    expect(reply.parsed.text).toContain('Signature');
    expect(reply.parsed.text).toContain(pageUrl(item));
    const link = new URL(/http:\/\/localhost:3000\/takedown\/complete\/\S+/.exec(reply.parsed.text!)![0]);
    expect(link.pathname).toBe(`/takedown/complete/${ref}`);

    // The form, pre-filled with what was understood.
    const page = await request(m.t.app)
      .get(link.pathname + link.search)
      .expect(200);
    expect(page.text).toContain(`Complete your notice ${ref}`);
    expect(page.text).toContain(pageUrl(item));
    expect(page.text).toContain(ADA);
    const token = link.searchParams.get('token')!;
    const form = {
      token,
      name: 'Ada Lovelace',
      email: ADA,
      address: '12 Marylebone Road, London',
      country: 'GB',
      role: 'owner',
      workDescription: 'My article "Notes on the Engine".',
      infringingUrls: pageUrl(item),
      goodFaith: 'true',
      accuracy: 'true',
      signature: 'Ada Lovelace',
      claimType: 'copyright',
    };
    // A wrong token changes nothing.
    await request(m.t.app)
      .post(`/takedown/complete/${ref}`)
      .type('form')
      .send({ ...form, token: 'x'.repeat(43) })
      .expect(404);
    const bad = await request(m.t.app)
      .post(`/takedown/complete/${ref}`)
      .type('form')
      .send({ ...form, signature: '' })
      .expect(422);
    expect(bad.text).toContain('signature');
    expect((await rows(`SELECT status FROM notices WHERE reference = $1`, [ref]))[0].status).toBe('incomplete');
    const done = await request(m.t.app).post(`/takedown/complete/${ref}`).type('form').send(form).expect(303);
    expect(done.headers.location).toBe(`/takedown/${ref}?token=${token}`);
    const [n] = await rows(`SELECT status, country, signature, due_at FROM notices WHERE reference = $1`, [ref]);
    expect(n).toMatchObject({ status: 'pending', country: 'GB', signature: 'Ada Lovelace' });
    expect(n.due_at).not.toBeNull();
    expect(await actions('notice', ref)).toEqual(['notice.submitted', 'notice.incomplete', 'notice.completed']);
    await send();
    expect(m.sink.to(ADA).map((x) => x.parsed.subject)).toEqual([expect.stringContaining('Re:'), expect.stringContaining(ref)]);
    // Following the link again: the notice is no longer incomplete.
    const later = await request(m.t.app).post(`/takedown/complete/${ref}`).type('form').send(form);
    expect(later.status).toBe(409);
  });

  it('when the complainant replies to a needs_info question, then the reply (quoted text removed) is the answer and the notice returns to the queue', async () => {
    const res = await post(rawEmail({ messageId: '<q1@analytical.example>', body: completeLetter([pageUrl(item)]) })).expect(202);
    const ref = res.body.noticeReference;
    const authz = { Authorization: `Bearer ${modToken}` };
    await request(m.t.app).post(`/api/v1/notices/${ref}/claim`).set(authz).send({}).expect(200);
    await request(m.t.app)
      .post(`/api/v1/notices/${ref}/decision`)
      .set(authz)
      .send({ action: 'request_info', reason: 'Where was the article first published?' })
      .expect(200);
    await send();
    const question = m.sink.to(ADA).find((x) => /question/i.test(x.parsed.subject ?? ''))!;
    const replyAddress = question.parsed.replyTo!.value[0].address!;
    expect(replyAddress).toMatch(/^reply\+[0-9a-f]{32}\.[0-9a-f]{20}@localhost$/);

    const answer = rawEmail({
      to: replyAddress,
      subject: `Re: ${question.parsed.subject}`,
      headers: { 'In-Reply-To': question.parsed.messageId! },
      body: `It was first published on 3 March 2026 in our print edition.\n\nOn Tue, 1 Dec 2026, Takedown Desk wrote:\n> Before we can decide on your notice ${ref}, we need more information:\n> Where was the article first published?\n`,
    });
    const r = await post(answer).expect(202);
    expect(r.body).toMatchObject({ status: 'reply_attached', noticeReference: ref });
    const [n] = await rows(`SELECT status, info_request FROM notices WHERE reference = $1`, [ref]);
    expect(n.status).toBe('pending');
    expect(n.info_request.answer).toContain('3 March 2026');
    expect(n.info_request.answer).not.toContain('we need more information');
    const trail = await rows(`SELECT action, details FROM audit_events WHERE subject_type = 'notice' AND subject_id = $1 ORDER BY id`, [
      ref,
    ]);
    expect(trail.map((e: { action: string }) => e.action).slice(-2)).toEqual(['notice.reply_received', 'notice.answered']);
    expect(trail[trail.length - 2].details.text).toContain('3 March 2026');
    // The staff timeline shows it.
    const view = await api(`/notices/${ref}`).expect(200);
    expect(JSON.stringify(view.body.timeline)).toContain('notice.reply_received');
    // No automatic answer to a reply.
    const before = m.sink.to(ADA).length;
    await send();
    expect(m.sink.to(ADA).length).toBe(before);
  });

  it('when a reply arrives with a forged or unknown key, then it is ignored and nothing is attached or answered', async () => {
    const res = await post(rawEmail({ body: completeLetter([pageUrl(item)]) })).expect(202);
    const [n] = await rows(`SELECT id FROM notices WHERE reference = $1`, [res.body.noticeReference]);
    const forged = `reply+${n.id.replace(/-/g, '')}.${'0'.repeat(20)}@localhost`;
    const r = await post(rawEmail({ to: forged, subject: 'Re: your notice', body: 'Please remove everything.' })).expect(202);
    expect(r.body).toMatchObject({ status: 'ignored', noticeReference: null });
    expect((await rows(`SELECT reason FROM inbound_emails WHERE id = $1`, [r.body.id]))[0].reason).toContain('forged');
    expect(await actions('notice', res.body.noticeReference)).toEqual(['notice.submitted']);
    expect(await actions('inbound_email', r.body.id)).toEqual(['inbound_email.received', 'inbound_email.ignored']);
    await send();
    expect(m.sink.to(ADA)).toHaveLength(1); // the first notice's acknowledgement only
  });

  it('when an auto-reply, a bounce or list mail arrives (even to a valid reply address), then it is ignored with its reason and never answered', async () => {
    const res = await post(rawEmail({ body: completeLetter([pageUrl(item)]) })).expect(202);
    await send();
    const replyAddress = m.sink.to(ADA)[0].parsed.replyTo!.value[0].address!;
    m.sink.clear();
    const autos = [
      rawEmail({
        to: replyAddress,
        subject: 'Out of office',
        headers: { 'Auto-Submitted': 'auto-replied' },
        body: 'I am away until Monday.',
      }),
      rawEmail({ subject: 'Automatic reply', headers: { 'X-Autoreply': 'yes' }, body: completeLetter([pageUrl(item)]) }),
      rawEmail({ subject: 'Weekly digest', headers: { Precedence: 'bulk' }, body: completeLetter([pageUrl(item)]) }),
      rawEmail({ from: 'MAILER-DAEMON@mx.example', subject: 'Undeliverable: your notice', body: 'Delivery failed.' }),
    ];
    for (const raw of autos) {
      const r = await post(raw).expect(202);
      expect(r.body.status).toBe('ignored');
      expect((await rows(`SELECT reason FROM inbound_emails WHERE id = $1`, [r.body.id]))[0].reason).toMatch(/automatic mail/);
    }
    expect((await rows(`SELECT count(*)::int AS n FROM notices`))[0].n).toBe(1);
    expect(await actions('notice', res.body.noticeReference)).toEqual(['notice.submitted']);
    await send();
    expect(answered()).toHaveLength(0);
  });

  it('when a mail without URLs or statements arrives, then it is ignored as not a notice and not answered', async () => {
    const r = await post(rawEmail({ subject: 'Hello', body: 'Do you sell advertising space?' })).expect(202);
    expect(r.body.status).toBe('ignored');
    expect((await rows(`SELECT reason FROM inbound_emails WHERE id = $1`, [r.body.id]))[0].reason).toBe('no URL and no statement');
    await send();
    expect(answered()).toHaveLength(0);
  });

  it('when one address sends more notices than INBOUND_REPLIES_PER_HOUR, then every notice is taken but only that many automatic replies go out', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const other = await makeItem(m.t.db, source);
      const r = await post(rawEmail({ body: completeLetter([pageUrl(other)]) })).expect(202);
      expect(r.body.status).toBe('notice_created');
      ids.push(r.body.id);
    }
    expect((await rows(`SELECT count(*)::int AS n FROM notices WHERE status = 'pending'`))[0].n).toBe(5);
    const reasons = await rows(`SELECT reason FROM inbound_emails ORDER BY received_at`);
    expect(reasons.filter((r: { reason: string | null }) => r.reason?.includes('INBOUND_REPLIES_PER_HOUR'))).toHaveLength(2);
    await send();
    expect(m.sink.to(ADA)).toHaveLength(3);
  });

  it('when hostile or broken messages arrive (malformed MIME, no From, header injection in the subject, a 20 MB attachment), then each is stored and read or ignored, never a 5xx and never an email twice', async () => {
    const url = pageUrl(item);
    const malformed = Buffer.from(
      `From: x@y.example\r\nContent-Type: multipart/mixed; boundary="b"\r\nSubject: broken\r\n\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n%%%not base64%%%\r\n--b`,
    );
    const noFrom = rawEmail({ from: null, body: completeLetter([url]) });
    const injected = rawEmail({ subject: 'Takedown =?utf-8?q?now=0D=0ABcc:_victim@example.org?=', body: completeLetter([url]) });
    const big = Buffer.concat([
      Buffer.from(
        `From: Ada Lovelace <${ADA}>\r\nTo: ${AGENT}\r\nSubject: with evidence\r\nMessage-ID: <big@analytical.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="XX"\r\n\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${completeLetter([url]).replace(/\n/g, '\r\n')}\r\n--XX\r\nContent-Type: application/octet-stream; name="evidence.bin"\r\nContent-Disposition: attachment; filename="evidence.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n`,
      ),
      Buffer.from(
        Buffer.alloc(15 * 1024 * 1024, 7)
          .toString('base64')
          .replace(/.{76}/g, '$&\r\n'),
      ),
      Buffer.from('\r\n--XX--\r\n'),
    ]);
    expect(big.length).toBeGreaterThan(20 * 1024 * 1024);
    const answers = [];
    for (const raw of [malformed, noFrom, injected, big]) {
      const r = await post(raw);
      expect(r.status).toBe(202);
      answers.push(r.body);
    }
    expect(answers[0].status).toBe('ignored');
    expect(answers[1]).toMatchObject({ status: 'ignored' });
    expect((await rows(`SELECT reason FROM inbound_emails WHERE id = $1`, [answers[1].id]))[0].reason).toContain('no usable From');
    expect(answers[2].status).toBe('notice_created');
    expect(['received', 'notice_created']).toContain(answers[3].status); // 202 at once; the job goes on
    expect(await settled(answers[3].id)).toBe('notice_created');
    expect((await rows(`SELECT size FROM inbound_emails WHERE id = $1`, [answers[3].id]))[0].size).toBe(big.length);
    // Nothing stuck, nothing failed.
    expect((await rows(`SELECT count(*)::int AS n FROM inbound_emails WHERE status IN ('received', 'failed')`))[0].n).toBe(0);
    await send();
    await send();
    const replies = m.sink.to(ADA);
    expect(replies).toHaveLength(2);
    const injectedReply = replies.find((x) => x.parsed.subject?.startsWith('Re: Takedown'))!;
    expect(injectedReply.parsed.headers.get('bcc')).toBeUndefined();
    expect(injectedReply.envelope.to).toEqual([ADA]);
    expect(m.sink.to('victim@example.org')).toHaveLength(0);
    expect(new Set(answered().map((x) => x.parsed.messageId)).size).toBe(answered().length);
  });

  it('when the caller is not an admin, sends another content type, or an empty body, then 403 / 415 / 422 and nothing is stored', async () => {
    await post(rawEmail({ body: completeLetter([pageUrl(item)]) }), modToken).expect(403);
    await request(m.t.app).post('/api/v1/inbound-emails').set('Content-Type', 'message/rfc822').send('x').expect(401);
    const r415 = await request(m.t.app)
      .post('/api/v1/inbound-emails')
      .set('Authorization', `Bearer ${adminToken}`)
      .send({ raw: 'x' })
      .expect(415);
    expect(r415.body.errors[0].field).toBe('Content-Type');
    await post(Buffer.alloc(0)).expect(422);
    await api('/inbound-emails?status=nonsense').expect(422);
    await api('/inbound-emails/not-a-uuid').expect(404);
    expect((await rows(`SELECT count(*)::int AS n FROM inbound_emails`))[0].n).toBe(0);
  });

  it('when a stored message was never read (a crash before the job ran), then the parse job reads it later, exactly once', async () => {
    const stored = await withTransaction(m.t.db, (tx) =>
      storeInboundEmail(tx, rawEmail({ body: completeLetter([pageUrl(item)]) }), 'imap', { at: new Date() }),
    );
    expect((await rows(`SELECT status FROM inbound_emails WHERE id = $1`, [stored.id]))[0].status).toBe('received');
    const [a, b] = await Promise.all([inbound.drain(), inbound.drain()]);
    expect(a.done + b.done).toBe(1);
    const [row] = await rows(`SELECT status, attempts, notice_id FROM inbound_emails WHERE id = $1`, [stored.id]);
    expect(row).toMatchObject({ status: 'notice_created', attempts: 1 });
    expect((await rows(`SELECT count(*)::int AS n FROM notices`))[0].n).toBe(1);
    const metrics = await request(m.t.app).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/takedown_inbound_emails\{status="notice_created"\} 1/);
  });

  it('when another live instance holds a stored message, then the parse job leaves it; when that instance stops heartbeating, then the job reads it once and clears the claim', async () => {
    const stored = await withTransaction(m.t.db, (tx) =>
      storeInboundEmail(tx, rawEmail({ body: completeLetter([pageUrl(item)]) }), 'imap', { at: new Date() }),
    );
    const other = createLeaseHolder(m.t.db, { name: 'other-instance' });
    try {
      const [held] = await other.claim<{ id: string }>({
        table: 'inbound_emails',
        where: `t.id = $1`,
        params: [stored.id],
        limit: 1,
        set: 'attempts = t.attempts + 1',
        returning: 't.id',
      });
      expect(held).toMatchObject({ id: stored.id, claimed_by: other.instanceId });
      expect(await inbound.drain()).toMatchObject({ claimed: 0, done: 0 });
      expect((await rows(`SELECT status FROM inbound_emails WHERE id = $1`, [stored.id]))[0].status).toBe('received');

      // The other instance dies: its registration runs out by PostgreSQL's clock.
      await rows(`UPDATE worker_instances SET expires_at = now() - interval '1 second' WHERE id = $1`, [other.instanceId]);
      expect(await inbound.drain()).toMatchObject({ claimed: 1, done: 1, lost: 0 });
      const [row] = await rows(`SELECT status, attempts, claimed_by, claimed_at FROM inbound_emails WHERE id = $1`, [stored.id]);
      expect(row).toMatchObject({ status: 'notice_created', attempts: 2, claimed_by: null, claimed_at: null });
      expect((await rows(`SELECT count(*)::int AS n FROM notices`))[0].n).toBe(1);
      expect(await actions('inbound_email', stored.id)).toContain('inbound_email.read');
    } finally {
      await other.stop();
    }
  });
});
