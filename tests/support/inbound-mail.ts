/** Raw RFC 822 messages for the mailbox tests, written out as a mail client would send them. */

export const AGENT = 'dmca@desk.example';

export interface LetterOptions {
  from?: string | null;
  to?: string;
  subject?: string;
  messageId?: string | null;
  headers?: Record<string, string>;
  body: string;
}

export function rawEmail(o: LetterOptions): Buffer {
  const lines: string[] = [];
  if (o.from !== null) lines.push(`From: ${o.from ?? 'Ada Lovelace <ada@analytical.example>'}`);
  lines.push(`To: ${o.to ?? AGENT}`);
  lines.push(`Subject: ${o.subject ?? 'DMCA takedown notice'}`);
  if (o.messageId !== null) lines.push(`Message-ID: ${o.messageId ?? `<${Math.random().toString(36).slice(2)}@analytical.example>`}`);
  lines.push(
    'Date: Tue, 01 Dec 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
  );
  for (const [k, v] of Object.entries(o.headers ?? {})) lines.push(`${k}: ${v}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${o.body.replace(/\r?\n/g, '\r\n')}\r\n`, 'utf8');
}

/** A complete § 512(c)(3) notice in prose, naming `urls` as the infringing copies. */
export function completeLetter(urls: string[], o: { signature?: string } = {}): string {
  return `Dear Copyright Agent,

I am the author and copyright owner of the article "Notes on the Engine", first published at https://analytical.example/notes-on-the-engine on our website.

The following pages on your site copy my article in full without permission:
${urls.join('\n')}

I have a good faith belief that use of the material in the manner complained of is not authorized by the copyright owner, its agent, or the law.

The information in this notification is accurate, and under penalty of perjury, I am the owner of the exclusive right that is allegedly infringed.

Sincerely,

${o.signature ?? '/s/ Ada Lovelace'}
Ada Lovelace
Analytical Press Ltd
12 Marylebone Road, London NW1 5LR, United Kingdom
Phone: +44 20 7946 0000
`;
}

/** A notice without the two sworn statements and without a signature. */
export function incompleteLetter(urls: string[]): string {
  return `Hello,

Your site copies our article "Notes on the Engine" without permission:
${urls.join('\n')}

Please take it down.

Ada
`;
}
