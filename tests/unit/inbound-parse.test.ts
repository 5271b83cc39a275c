import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { findMessageUrls, parseNoticeEmail, readMessage, type InboundMessage, type ParseContext } from '../../src/modules/inbound/parse';

const ctx: ParseContext = { publicBaseUrl: 'https://desk.example', isItemOriginalUrl: () => false };

/** A raw RFC 822 message: header lines, a blank line, the body (CRLF line ends). */
function raw(headers: string[], body: string | Buffer): Buffer {
  const head = Buffer.from(`${headers.join('\r\n')}\r\n\r\n`, 'utf8');
  return Buffer.concat([head, typeof body === 'string' ? Buffer.from(body.replace(/\r?\n/g, '\r\n'), 'utf8') : body]);
}

const STATUTE = `I have a good faith belief that use of the copyrighted materials described above is not authorized by the copyright owner, its agent, or the law.
I swear, under penalty of perjury, that the information in this notification is accurate and that I am the copyright owner, or am authorized to act on behalf of the owner.`;

const LETTER = `Dear DMCA agent,

Our copyrighted photograph "Harbour at Dawn" (https://photos.example/harbour) is copied without permission at
https://desk.example/items/harbour-copy

${STATUTE}

Sincerely,
Jane Doe
Doe Photography Ltd
12 Quay Street, Bristol BS1 4DJ
Phone: +44 117 496 0000`;

async function parse(headers: string[], body: string | Buffer, c: ParseContext = ctx) {
  const msg = await readMessage(raw(headers, body));
  return { msg, r: parseNoticeEmail(msg, c) };
}

const BASE = [
  'From: Jane Doe <jane@doe.example>',
  'To: dmca@desk.example',
  'Subject: DMCA notice',
  'Message-ID: <n1@doe.example>',
  'Date: Tue, 1 Dec 2026 10:00:00 +0000',
];

describe('readMessage', () => {
  it('when a plain message is read, then its headers, addresses, threading and text come out decoded', async () => {
    const msg = await readMessage(
      raw(
        [...BASE, 'In-Reply-To: <a@desk.example>', 'References: <z@desk.example> <a@desk.example>', 'Subject: =?utf-8?Q?Caf=C3=A9?='],
        'Hello',
      ),
    );
    expect(msg.messageId).toBe('<n1@doe.example>');
    expect(msg.from).toEqual({ address: 'jane@doe.example', name: 'Jane Doe' });
    expect(msg.to).toEqual(['dmca@desk.example']);
    expect(msg.subject).toBe('DMCA notice');
    expect(msg.headers['message-id']).toBe('<n1@doe.example>');
    expect(msg.date?.toISOString()).toBe('2026-12-01T10:00:00.000Z');
    expect(msg.inReplyTo).toBe('<a@desk.example>');
    expect(msg.references).toEqual(['<z@desk.example>', '<a@desk.example>']);
    expect(msg.text?.trim()).toBe('Hello');
  });

  it('when a subject carries an encoded CR LF and a Bcc header, then it stays one line and no header is added', async () => {
    const msg = await readMessage(raw(['From: a@b.example', 'Subject: =?utf-8?Q?Hello=0D=0ABcc:_victim@evil.example?='], 'x'));
    expect(msg.subject).not.toMatch(/[\r\n]/);
    expect(msg.subject).toContain('Hello');
    expect(msg.headers.bcc).toBeUndefined();
  });

  it.each([
    [
      'Latin-1 declared',
      ['Content-Type: text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding: 8bit'],
      Buffer.from('Caf\xe9 M\xfcller \xa9', 'latin1'),
      'Café Müller ©',
    ],
    ['Latin-1 undeclared', [], Buffer.from('Caf\xe9 M\xfcller \xa9', 'latin1'), 'Café Müller ©'],
    [
      'Windows-1252 declared',
      ['Content-Type: text/plain; charset=windows-1252'],
      Buffer.from([0x93, 0x41, 0x94, 0x20, 0x96, 0x20, 0x80]),
      '“A” – €',
    ],
    ['Windows-1252 undeclared', [], Buffer.from([0x93, 0x41, 0x94, 0x20, 0x96, 0x20, 0x80]), '“A” – €'],
    ['Shift-JIS declared', ['Content-Type: text/plain; charset=Shift_JIS'], Buffer.from([0x92, 0x98, 0x8d, 0xec, 0x8c, 0xa0]), '著作権'],
  ])('when the body is %s, then the text is decoded right', async (_name, headers, body, expected) => {
    const msg = await readMessage(raw(['From: a@b.example', 'Subject: x', ...headers], body));
    expect(msg.text?.trim()).toBe(expected);
  });

  it('when headers carry raw 8-bit Latin-1, then name and subject are decoded, not replaced by U+FFFD', async () => {
    const head = Buffer.concat([
      Buffer.from('From: J'),
      Buffer.from([0xfc]),
      Buffer.from('rgen <j@b.example>\r\nSubject: M'),
      Buffer.from([0xfc]),
      Buffer.from('ller\r\n\r\nhi'),
    ]);
    const msg = await readMessage(head);
    expect(msg.from).toEqual({ address: 'j@b.example', name: 'Jürgen' });
    expect(msg.subject).toBe('Müller');
  });

  it('when a zip bomb is attached, then its bytes are kept as they came and never opened', async () => {
    const bomb = gzipSync(Buffer.alloc(20 * 1024 * 1024));
    const body = `--b1\r\nContent-Type: text/plain\r\n\r\n${LETTER}\r\n--b1\r\nContent-Type: application/zip\r\nContent-Disposition: attachment; filename="42.zip"\r\nContent-Transfer-Encoding: base64\r\n\r\n${bomb.toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n--b1--\r\n`;
    const { msg, r } = await parse([...BASE, 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b1"'], body);
    expect(msg.attachments).toHaveLength(1);
    expect(msg.attachments[0]).toMatchObject({ filename: '42.zip', contentType: 'application/zip', size: bomb.length });
    expect(msg.attachments[0]!.content.equals(bomb)).toBe(true);
    expect(r.complete).toBe(true);
  });

  it('when an attachment is over the limit, then its size and type are kept but not its bytes', async () => {
    const big = Buffer.alloc(300_000, 'a');
    const body = `--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="n.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n${big.toString('base64')}\r\n--b1--\r\n`;
    const msg = await readMessage(raw(['From: a@b.example', 'Content-Type: multipart/mixed; boundary="b1"'], body), {
      maxAttachmentBytes: 100_000,
    });
    expect(msg.attachments[0]).toMatchObject({ filename: 'n.pdf', size: 300_000 });
    expect(msg.attachments[0]!.content.length).toBe(0);
  });

  it.each([
    [
      'a multipart with no closing boundary',
      ['Content-Type: multipart/mixed; boundary="zz"'],
      '--zz\r\nContent-Type: text/plain\r\n\r\nhttps://desk.example/items/a\r\n--zz\r\nContent-Type: text/html\r\n\r\n<p>unclosed',
    ],
    ['a boundary that never appears', ['Content-Type: multipart/alternative; boundary="nope"'], 'just text https://desk.example/items/b'],
    ['garbage headers', ['::::', 'Content-Type: ;;;=', 'Content-Transfer-Encoding: base64'], '%%%% not base64 %%%%'],
    ['no headers at all', [], '\x00\x01\x02 binary'],
  ])('when the message has %s, then it is read without throwing', async (_name, headers, body) => {
    const msg = await readMessage(raw(headers, body));
    expect(typeof msg.subject).toBe('string');
    expect(() => parseNoticeEmail(msg, ctx)).not.toThrow();
  });

  it('when any bytes at all arrive, then readMessage and parseNoticeEmail never throw', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), async (bytes) => {
        const msg = await readMessage(Buffer.from(bytes));
        parseNoticeEmail(msg, ctx);
        findMessageUrls(msg);
      }),
      { numRuns: 60 },
    );
  });
});

describe('parseNoticeEmail', () => {
  it('when a complete prose letter arrives, then every element is extracted and nothing is missing', async () => {
    const { r } = await parse(BASE, LETTER);
    expect(r).toMatchObject({
      kind: 'notice',
      reason: null,
      complete: true,
      missing: [],
      infringingUrls: ['https://desk.example/items/harbour-copy'],
      originalUrls: ['https://photos.example/harbour'],
      goodFaith: true,
      accuracy: true,
      signature: 'Jane Doe',
      name: 'Jane Doe',
      email: 'jane@doe.example',
      organization: 'Doe Photography Ltd',
      phone: '+44 117 496 0000',
      role: 'owner',
      forwardedFrom: null,
    });
    expect(r.address).toContain('12 Quay Street');
    expect(r.workDescription).toContain('Harbour at Dawn');
    expect(r.goodFaithStatement).toContain('good faith belief');
    expect(r.accuracyStatement).toContain('penalty of perjury');
  });

  it('when the statements are paraphrased, in another order and wrapped mid-sentence, then both are recognised', async () => {
    const { r } = await parse(
      BASE,
      `Please remove https://desk.example/items/x which copies our novel "Grey Tide".

Under penalty of perjury, we certify that this notice is true and correct and that we are
authorised to act for the rights holder, Tide Books Ltd.
We believe in good
faith that the material is not licensed by the rights holder or permitted by law.

/s/ Ann Smith`,
    );
    expect(r.goodFaith).toBe(true);
    expect(r.accuracy).toBe(true);
    expect(r.signature).toBe('Ann Smith');
  });

  it('when a statement is only claimed without perjury or belief, then it is reported missing with its paragraph', async () => {
    const { r } = await parse(
      BASE,
      'Remove https://desk.example/items/x now, it copies our book "Grey Tide". The information here is accurate.\n\nRegards,\nAnn Smith',
    );
    expect(r.complete).toBe(false);
    expect(r.missing.map((m) => [m.element, m.paragraph])).toEqual([
      ['goodFaith', '§ 512(c)(3)(A)(v)'],
      ['accuracy', '§ 512(c)(3)(A)(vi)'],
    ]);
  });

  it('when no URL on this site is named, then infringingUrls is missing and the other URLs are original works', async () => {
    const { r } = await parse(
      BASE,
      `Our work https://photos.example/a is copied at https://elsewhere.example/b.\n\n${STATUTE}\n\n/s/ Jane Doe`,
    );
    expect(r.infringingUrls).toEqual([]);
    expect(r.originalUrls).toEqual(['https://photos.example/a', 'https://elsewhere.example/b']);
    expect(r.missing.map((m) => m.element)).toEqual(['infringingUrls']);
  });

  it('when a URL is the original URL of one of our items, then it is a target and also an original work', async () => {
    const c: ParseContext = { publicBaseUrl: 'https://desk.example', isItemOriginalUrl: (u) => u === 'https://feeds.example/story/1' };
    const { r } = await parse(
      BASE,
      `Our article https://feeds.example/story/1?utm_source=x was republished by you.\n\n${STATUTE}\n\n/s/ Jane Doe`,
      c,
    );
    expect(r.infringingUrls).toEqual(['https://feeds.example/story/1']);
    expect(r.originalUrls).toEqual(['https://feeds.example/story/1']);
  });

  it('when URLs are bare, bracketed, wrapped in Markdown or end a sentence, then each is found once, normalised', async () => {
    const { r } = await parse(
      BASE,
      `See desk.example/items/a, <https://desk.example/items/b>, [c](https://desk.example/items/c) and https://DESK.example/items/a/.
Also (https://desk.example/items/d).\n\n${STATUTE}\n\n/s/ Jane Doe`,
    );
    expect(r.infringingUrls).toEqual([
      'https://desk.example/items/a',
      'https://desk.example/items/b',
      'https://desk.example/items/c',
      'https://desk.example/items/d',
    ]);
  });

  it('when a complaint is forwarded by a hosting provider, then the original sender and text are unwrapped', async () => {
    const { r } = await parse(
      ['From: Abuse Desk <abuse@host.example>', 'To: dmca@desk.example', 'Subject: Fwd: DMCA notice'],
      `Hi, please handle the complaint below.

Thanks,
Abuse Desk

---------- Forwarded message ---------
From: Jane Doe <jane@doe.example>
Date: Mon, 30 Nov 2026 at 09:12
Subject: DMCA notice
To: <abuse@host.example>

${LETTER}`,
    );
    expect(r.forwardedFrom).toEqual({ address: 'jane@doe.example', name: 'Jane Doe' });
    expect(r.email).toBe('jane@doe.example');
    expect(r.name).toBe('Jane Doe');
    expect(r.body.startsWith('Dear DMCA agent')).toBe(true);
    expect(r.body).not.toContain('Abuse Desk');
    expect(r.complete).toBe(true);
  });

  it('when a complaint is forwarded as an attached .eml, then it is read as the notice', async () => {
    const inner = raw(['From: Jane Doe <jane@doe.example>', 'Subject: DMCA notice'], LETTER).toString('utf8');
    const body = `--b1\r\nContent-Type: text/plain\r\n\r\nForwarding the attached complaint.\r\n--b1\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename="complaint.eml"\r\n\r\n${inner}\r\n--b1--\r\n`;
    const { msg, r } = await parse(
      ['From: Abuse <abuse@host.example>', 'Subject: Fwd', 'Content-Type: multipart/mixed; boundary="b1"'],
      body,
    );
    expect(msg.embedded?.[0]?.from.address).toBe('jane@doe.example');
    expect(r.forwardedFrom).toEqual({ address: 'jane@doe.example', name: 'Jane Doe' });
    expect(r.infringingUrls).toEqual(['https://desk.example/items/harbour-copy']);
    expect(r.goodFaith && r.accuracy).toBe(true);
  });

  it('when a reply quotes our own email, then statements in the quote do not count and the body is the reply alone', async () => {
    const { r } = await parse(
      [...BASE, 'In-Reply-To: <ack@desk.example>'],
      `Here is the URL: https://desk.example/items/x

On Tue, 1 Dec 2026 at 10:00, Takedown Desk <dmca@desk.example> wrote:
> Please add: ${STATUTE.replace(/\n/g, '\n> ')}
`,
    );
    expect(r.goodFaith).toBe(false);
    expect(r.accuracy).toBe(false);
    expect(r.body).toBe('Here is the URL: https://desk.example/items/x');
  });

  it('when the mail is HTML only, then the text comes from the HTML, links from the hrefs, and scripts are dropped', async () => {
    const html = `<html><head><script>document.write("good faith belief")</script><style>p{}</style></head><body>
<p>Our copyrighted song is copied <a href="https://desk.example/items/song-copy">here</a>.</p>
<p>${STATUTE.replace(/\n/g, '</p><p>')}</p><p>Kind regards,<br>Jane Doe</p><img src="https://tracker.example/p.gif"></body></html>`;
    const { r } = await parse([...BASE, 'Content-Type: text/html; charset=utf-8'], html);
    expect(r.infringingUrls).toEqual(['https://desk.example/items/song-copy']);
    expect(r.originalUrls).toEqual([]);
    expect(r.body).not.toMatch(/document\.write|<script|p\{\}/);
    expect(r.signature).toBe('Jane Doe');
    expect(r.complete).toBe(true);
  });

  it("when GitHub's question-and-answer form arrives, then role, signature and statements come from the answers", async () => {
    const form = `**Are you the copyright holder or authorized to act on the copyright owner's behalf?**

Yes, I am authorized to act on the copyright owner's behalf.

**Please describe the nature of your copyright ownership or authorization to act on the owner's behalf.**

Acme Games, Inc. is the copyright owner. I am its counsel.

**Please provide a detailed description of the original copyrighted work that has allegedly been infringed.**

The source code of the game Starfall.

**What files should be taken down?**

https://desk.example/items/starfall-leak

**I have a good faith belief that use of the copyrighted materials described above on the infringing web pages is not authorized by the copyright owner, or its agent, or the law.**

**I swear, under penalty of perjury, that the information in this notification is accurate and that I am the copyright owner, or am authorized to act on behalf of the owner, of an exclusive right that is allegedly infringed.**

**So that we can get back to you, please provide either your telephone number or physical address.**

+1 415 555 0100

**Please type your full legal name below to sign this request.**

Sam Lee`;
    const { r } = await parse(BASE, form);
    expect(r).toMatchObject({
      role: 'agent',
      rightsOwner: 'Acme Games, Inc',
      signature: 'Sam Lee',
      goodFaith: true,
      accuracy: true,
      complete: true,
    });
    expect(r.phone).toBe('+1 415 555 0100');
  });

  it('when an agent never names the owner, then rightsOwner is missing', async () => {
    const { r } = await parse(
      BASE,
      `We are authorized to act on the copyright owner's behalf. Remove https://desk.example/items/x, a copy of our client's book.\n\n${STATUTE}\n\nRegards,\nSam Lee`,
    );
    expect(r.role).toBe('agent');
    expect(r.missing.map((m) => m.element)).toEqual(['rightsOwner']);
  });

  it('when an ACNS XML document is attached, then its URLs and complainant are read structurally', async () => {
    const acns = `<?xml version="1.0" encoding="UTF-8"?>
<Infringement xmlns="http://www.acns.net/ACNS" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <Case><ID>A-1</ID><Status>Open</Status></Case>
  <Complainant><Entity>Studio Films LLC</Entity><Contact>Enforcement Team</Contact><Address>1 Film Way, Los Angeles, CA 90001</Address><Phone>+1 310 555 0101</Phone><Email>antipiracy@studio.example</Email></Complainant>
  <Service_Provider><Entity>Takedown Desk</Entity></Service_Provider>
  <Source><TimeStamp>2026-11-30T10:00:00Z</TimeStamp><Type>HTTP</Type><URL_Base>https://desk.example/items/film-rip</URL_Base></Source>
  <Content><Item><TimeStamp>2026-11-30T10:00:00Z</TimeStamp><Title>Night Train (2026)</Title><URL>https://desk.example/items/film-rip-2</URL></Item></Content>
</Infringement>`;
    const body = `--b1\r\nContent-Type: text/plain\r\n\r\nPlease see the attached ACNS notice.\r\n${STATUTE}\r\n\r\n/s/ Enforcement Team\r\n--b1\r\nContent-Type: application/xml\r\nContent-Disposition: attachment; filename="acns.xml"\r\n\r\n${acns}\r\n--b1--\r\n`;
    const { msg, r } = await parse(
      ['From: antipiracy@studio.example', 'Subject: Notice', 'Content-Type: multipart/mixed; boundary="b1"'],
      body,
    );
    expect(r.sources).toContain('acns');
    expect(r.infringingUrls).toEqual(['https://desk.example/items/film-rip-2', 'https://desk.example/items/film-rip']);
    expect(r).toMatchObject({
      organization: 'Studio Films LLC',
      phone: '+1 310 555 0101',
      address: '1 Film Way, Los Angeles, CA 90001',
      workDescription: 'Night Train (2026)',
    });
    expect(findMessageUrls(msg)).toEqual(['https://desk.example/items/film-rip-2', 'https://desk.example/items/film-rip']);
  });

  it('when an ACNS document is inline in the text, then it is read too', async () => {
    const { r } = await parse(
      BASE,
      `Notice follows.\n<Infringement><Content><Item><Title>Song</Title><URL>https://desk.example/items/song</URL></Item></Content></Infringement>\n${STATUTE}\n/s/ Jane Doe`,
    );
    expect(r.infringingUrls).toEqual(['https://desk.example/items/song']);
    expect(r.workDescription).not.toBeNull();
  });

  it('when an X-ARF copyright report arrives, then the reported source is the target', async () => {
    const report = `Reported-From: reports@vendor.example\nCategory: abuse\nReport-Type: copyright\nSource-Type: uri\nSource: https://desk.example/items/leak\nOriginal-Url: https://vendor.example/work/9\nDate: 2026-11-30T10:00:00Z\n`;
    const body = `--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThis is an abuse report.\r\n${STATUTE}\r\n/s/ Vendor Agent\r\n--b1\r\nContent-Type: text/plain; charset=utf-8; name="report.txt"\r\nContent-Disposition: attachment; filename="report.txt"\r\n\r\n${report}\r\n--b1--\r\n`;
    const { r } = await parse(
      ['From: reports@vendor.example', 'Subject: abuse report', 'X-ARF: Yes', 'Content-Type: multipart/mixed; boundary="b1"'],
      body,
    );
    expect(r.sources).toContain('xarf');
    expect(r.infringingUrls).toEqual(['https://desk.example/items/leak']);
    expect(r.originalUrls).toContain('https://vendor.example/work/9');
  });

  it.each([
    ['Auto-Submitted: auto-replied', ['Auto-Submitted: auto-replied']],
    ['Auto-Submitted: auto-generated', ['Auto-Submitted: auto-generated']],
    ['X-Autoreply', ['X-Autoreply: yes']],
    ['Precedence: bulk', ['Precedence: bulk']],
    ['Precedence: junk', ['Precedence: junk']],
    ['Precedence: list', ['Precedence: list']],
    ['List-Id', ['List-Id: <announce.lists.example>']],
    ['an empty return path', ['Return-Path: <>']],
    ['a DSN', ['Content-Type: multipart/report; report-type=delivery-status; boundary="b1"']],
  ])('when the mail carries %s, then it is an auto-reply, never a notice', async (_name, headers) => {
    const body = headers[0]!.includes('multipart/report')
      ? `--b1\r\nContent-Type: text/plain\r\n\r\n${LETTER}\r\n--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; x@y.example\r\nAction: failed\r\nStatus: 5.1.1\r\n--b1--\r\n`
      : LETTER;
    const { r } = await parse([...BASE, ...headers], body);
    expect(r.kind).toBe('auto_reply');
    expect(r.reason).toBeTruthy();
    expect(r.complete).toBe(false);
    expect(r.missing).toEqual([]);
  });

  it('when Auto-Submitted is "no", then the mail is read as a notice', async () => {
    const { r } = await parse([...BASE, 'Auto-Submitted: no'], LETTER);
    expect(r.kind).toBe('notice');
  });

  it('when a mail has no URL and no statement, then it is not a notice', async () => {
    const { r } = await parse(BASE, 'Hi, do you accept guest posts? Thanks, Bob');
    expect(r).toMatchObject({ kind: 'not_a_notice', reason: 'no URL and no statement', complete: false });
  });

  it('when a mail has no From, then the contact element is missing but the rest is read', async () => {
    const { r } = await parse(
      ['To: dmca@desk.example', 'Subject: x'],
      `Our copyrighted book is at https://desk.example/items/x\n\n${STATUTE}`,
    );
    expect(r.email).toBeNull();
    expect(r.missing.map((m) => m.element)).toEqual(['signature', 'contact']);
  });

  it('when a letter names 10,000 URLs, then all are read and none is lost or duplicated', async () => {
    const urls = Array.from({ length: 10_000 }, (_, i) => `https://desk.example/items/copy-${i}`);
    const { msg, r } = await parse(
      BASE,
      `Remove these copies of our copyrighted book:\n${urls.join('\n')}\n${urls.slice(0, 50).join(' ')}\n\n${STATUTE}\n\n/s/ Jane Doe`,
    );
    expect(r.infringingUrls).toHaveLength(10_000);
    expect(r.infringingUrls[9_999]).toBe('https://desk.example/items/copy-9999');
    expect(findMessageUrls(msg)).toHaveLength(10_000);
    expect(r.complete).toBe(true);
  });

  it.each([
    [
      '50,000 nested <div>s',
      ['Content-Type: text/html'],
      `${'<div>'.repeat(50_000)}https://desk.example/items/deep${'</div>'.repeat(50_000)}`,
    ],
    ['a 240 KB line of "x on y at z"', [], 'x on y at z '.repeat(20_000)],
    ['600 KB of "on behalf of Aa Aa …"', [], `on behalf of ${'Aa '.repeat(200_000)}`],
    ['2 MB of capitalised words', [], 'Acme Corp Big Name '.repeat(100_000)],
  ])('when the body is hostile (%s), then it is parsed to an answer', async (_name, headers, body) => {
    const { r } = await parse(['From: a@b.example', 'Subject: x', ...headers], body);
    expect(['notice', 'not_a_notice']).toContain(r.kind);
  });

  it('when the site itself is named, then its home page is no target', async () => {
    const { r } = await parse(
      BASE,
      `Your site https://desk.example/ hosts a copy of our copyrighted book at https://desk.example/items/x.\n\n${STATUTE}\n\n/s/ Jane Doe`,
    );
    expect(r.infringingUrls).toEqual(['https://desk.example/items/x']);
    expect(r.originalUrls).toEqual([]);
  });

  it('when the message object is built by hand with odd values, then nothing throws', () => {
    const msg: InboundMessage = {
      messageId: null,
      from: { address: null, name: null },
      to: [],
      subject: '',
      date: null,
      headers: {},
      text: '\u0000'.repeat(10) + 'x'.repeat(100_000),
      html: '<a href="javascript:alert(1)">x</a><a href="https://desk.example/items/ok">ok</a>',
      attachments: [{ filename: null, contentType: 'application/xml', size: 5, content: Buffer.from('<Inf') }],
      inReplyTo: null,
      references: [],
    };
    const r = parseNoticeEmail(msg, {
      publicBaseUrl: 'not a url',
      isItemOriginalUrl: () => {
        throw new Error('db down');
      },
    });
    expect(r.kind).toBe('not_a_notice');
    expect(findMessageUrls(msg)).toEqual(['https://desk.example/items/ok']);
  });
});
