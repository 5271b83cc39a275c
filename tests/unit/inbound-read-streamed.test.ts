import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PARSER_OPTIONS } from '../../src/modules/inbound/parse/read-message';
import { findMessageUrls, parseNoticeEmail, readMessage, type InboundMessage, type ParseContext } from '../../src/modules/inbound/parse';

/**
 * Issue 18 (memory): the parse job reads a stored message piece by piece and keeps the bytes only of
 * the attachments the parser reads. Both must change nothing in what is read: the same message, the
 * same URLs, the same extracted notice as reading one buffer with every attachment kept.
 */
const ctx: ParseContext = { publicBaseUrl: 'https://desk.example', isItemOriginalUrl: () => false };
const dir = path.join(__dirname, '../fixtures/dmca');

/** The bytes in pieces of `size` (PostgreSQL's COPY gives ~64 KiB; small pieces cut headers, lines and characters). */
const pieces = (raw: Buffer, size: number) =>
  async function* () {
    for (let at = 0; at < raw.length; at += size) yield Buffer.from(raw.subarray(at, at + size));
  };

function raw(headers: string[], body: string | Buffer): Buffer {
  const head = Buffer.from(`${headers.join('\r\n')}\r\n\r\n`, 'utf8');
  return Buffer.concat([head, typeof body === 'string' ? Buffer.from(body.replace(/\r?\n/g, '\r\n'), 'utf8') : body]);
}

/** What the parser reads of a message (attachment bytes compared where the parser reads them). */
function readOf(msg: InboundMessage) {
  return {
    msg: { ...msg, attachments: msg.attachments.map((a) => ({ ...a, content: a.content.length })), embedded: msg.embedded?.length },
    urls: findMessageUrls(msg),
    notice: parseNoticeEmail(msg, ctx),
  };
}

const LETTER = `I own the photograph at https://photos.example/harbour, copied at https://desk.example/items/harbour-copy.
I have a good faith belief that this use is not authorized by the copyright owner, its agent, or the law.
Under penalty of perjury, the information in this notice is accurate and I am the owner.

/s/ Jane Doe`;

const boundary = 'b-7f3a';
const withAttachments = raw(
  [
    'From: Jane Doe <jane@photos.example>',
    'To: dmca@desk.example',
    'Subject: Notice',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
  ],
  [
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    LETTER,
    `--${boundary}`,
    'Content-Type: application/pdf; name="evidence.pdf"',
    'Content-Disposition: attachment; filename="evidence.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.alloc(300_000, 7).toString('base64').replace(/.{76}/g, '$&\n'),
    `--${boundary}`,
    'Content-Type: text/plain; name="urls.txt"',
    'Content-Disposition: attachment; filename="urls.txt"',
    '',
    'https://desk.example/items/second-copy',
    `--${boundary}`,
    'Content-Type: message/rfc822',
    'Content-Disposition: attachment; filename="original.eml"',
    '',
    `From: Owner <owner@photos.example>\nSubject: Fwd\n\n${LETTER}`,
    `--${boundary}--`,
    '',
  ].join('\n'),
);

const cases: [string, Buffer][] = [
  ...readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .map((f): [string, Buffer] => [f, readFileSync(path.join(dir, f))]),
  ['attachments: a PDF, a .txt of URLs, a forwarded .eml', withAttachments],
  [
    'a text/plain body in Windows-1252 with no charset declared',
    raw(
      ['From: a@b.example', 'Subject: caf\xe9', 'Content-Type: text/plain'],
      Buffer.from(`${LETTER}\r\n\x93quoted\x94 caf\xe9\r\n`, 'latin1'),
    ),
  ],
  ['raw 8-bit Latin-1 headers, a UTF-8 body', raw(['From: Ren\xe9 <r@b.example>', 'Subject: Avis'], LETTER)],
  ['no blank line after the headers', Buffer.from('From: a@b.example\r\nSubject: only headers\r\n')],
  ['LF line ends only', Buffer.from(`From: a@b.example\nSubject: lf\n\n${LETTER}\n`)],
];

describe('when a message is read piece by piece with only the read attachments kept, as the parse job reads it', () => {
  it.each(cases)('then %s reads exactly as one buffer with every attachment kept', async (_name, bytes) => {
    const whole = readOf(await readMessage(bytes));
    for (const size of [7, 1024, 1024 * 1024]) {
      const streamed = await readMessage(pieces(bytes, size), { onlyReadAttachments: true });
      const { msg, ...rest } = readOf(streamed);
      expect(rest).toEqual({ urls: whole.urls, notice: whole.notice });
      expect(msg).toEqual({
        ...whole.msg,
        // Unread attachments keep name, type and size; only their bytes are left in the stored message.
        attachments: whole.msg.attachments.map((a, i) => ({ ...a, content: streamed.attachments[i]!.content.length ? a.content : 0 })),
      });
    }
  });

  it('then an attachment nobody reads keeps its size and type but not its bytes, and the mailbox still gets them all', async () => {
    const streamed = await readMessage(pieces(withAttachments, 4096), { onlyReadAttachments: true });
    const pdf = streamed.attachments.find((a) => a.filename === 'evidence.pdf')!;
    expect(pdf).toMatchObject({ contentType: 'application/pdf', size: 300_000 });
    expect(pdf.content.length).toBe(0);
    expect(streamed.attachments.find((a) => a.filename === 'urls.txt')!.content.toString()).toContain('second-copy');
    expect(streamed.embedded).toHaveLength(1);
    const all = await readMessage(pieces(withAttachments, 4096));
    expect(all.attachments.find((a) => a.filename === 'evidence.pdf')!.content).toEqual(Buffer.alloc(300_000, 7));
  });

  it('then an error of the source is thrown, not read as a malformed message', async () => {
    const failing = async function* () {
      yield Buffer.from('From: a@b.example\r\nSubject: x\r\n\r\nHello ');
      throw new Error('connection lost');
    };
    await expect(readMessage(failing)).rejects.toThrow('connection lost');
  });
});

/** Text parts of every shape mailparser joins: its own simpleParser is the reference for text and HTML. */
const textShapes: [string, Buffer][] = [
  [
    'multipart/alternative (text and HTML)',
    raw(
      ['From: a@b.example', 'Content-Type: multipart/alternative; boundary="alt"'],
      `--alt\nContent-Type: text/plain; charset=utf-8\n\nPlain caf\u00e9 text\r\nline two\n--alt\nContent-Type: text/html; charset=utf-8\n\n<p>HTML caf\u00e9</p>\n--alt--\n`,
    ),
  ],
  [
    'mixed: text, inline HTML, a second text part and an attached text file',
    raw(
      ['From: a@b.example', 'Content-Type: multipart/mixed; boundary="mix"'],
      `--mix\nContent-Type: text/plain\n\nfirst\n--mix\nContent-Type: text/html\nContent-Disposition: inline\n\n<b>second</b>\n--mix\nContent-Type: text/plain; charset=us-ascii\n\nthird\n--mix\nContent-Type: text/plain\nContent-Disposition: attachment; filename="a.txt"\n\nfile\n--mix--\n`,
    ),
  ],
  [
    'a forwarded message inline (headers shown above its text)',
    raw(
      ['From: a@b.example', 'Content-Type: multipart/mixed; boundary="fw"'],
      `--fw\nContent-Type: text/plain\n\ncover\n--fw\nContent-Type: message/rfc822\nContent-Disposition: inline\n\nFrom: Owner <o@c.example>\nSubject: Original\nDate: Tue, 01 Dec 2026 10:00:00 +0000\n\nthe original text\n--fw--\n`,
    ),
  ],
  [
    'format=flowed (left to mailparser)',
    raw(['From: a@b.example', 'Content-Type: text/plain; charset=utf-8; format=flowed'], 'a soft \nbreak\nhard\n'),
  ],
  [
    'Latin-1 declared (left to mailparser)',
    raw(['From: a@b.example', 'Content-Type: text/plain; charset=iso-8859-1'], Buffer.from('caf\xe9\r\n', 'latin1')),
  ],
  [
    'invalid UTF-8, a BOM, a lone CR, CRLF and base64',
    raw(
      ['From: a@b.example', 'Content-Type: multipart/mixed; boundary="x"'],
      Buffer.concat([
        Buffer.from(
          '--x\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\ufeffa\r\nb\rc \xe2\x82 d \xff e \xf0\x9f\x98\x80\r\n',
          'binary',
        ),
        Buffer.from(
          `--x\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from('<p>\u00e9\r\nx</p>\r').toString('base64')}\r\n--x--\r\n`,
        ),
      ]),
    ),
  ],
  ['a body with no Content-Type and a CR at the very end', Buffer.from('From: a@b.example\r\n\r\nline\r\nend\r')],
];

describe('when text parts are decoded as they stream', () => {
  it.each(textShapes)('then %s gives the text and HTML of mailparser itself', async (_name, bytes) => {
    const { simpleParser } = await import('mailparser');
    const reference = await simpleParser(bytes, PARSER_OPTIONS);
    for (const size of [1, 3, 7, 64 * 1024]) {
      const msg = await readMessage(pieces(bytes, size), { onlyReadAttachments: true });
      expect({ text: msg.text, html: msg.html }).toEqual({
        text: typeof reference.text === 'string' ? reference.text : null,
        html: typeof reference.html === 'string' ? reference.html : null,
      });
    }
  });
});
