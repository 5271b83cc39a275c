import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  createEmailRenderer,
  emailTemplatesDir,
  isDeliverableAddress,
  listTemplates,
  messageIdFor,
  retryDelayMs,
} from '../../src/modules/mail';
import { cleanHeaderText, httpUrl } from '../../src/modules/mail/render';
import { isPermanentRejection } from '../../src/modules/mail/transport';

const FIXTURES = path.resolve(__dirname, '../fixtures/emails');
const SRC = path.resolve(__dirname, '../../src');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('email rendering', () => {
  const renderer = createEmailRenderer({ baseUrl: 'https://desk.example.org/', dirs: [emailTemplatesDir, FIXTURES], cache: false });

  it('when values carry markup, then the HTML part escapes every one and the text part shows them as typed', () => {
    const hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>';
    const out = renderer.render('staff-account-created', {
      name: hostile,
      email: 'new@example.org',
      role: 'moderator<b>',
      createdBy: '"><svg onload=1>',
    });
    expect(out.html).not.toMatch(/<script|<img|<svg|<b>/);
    expect(out.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(out.html).toContain('&quot;&gt;&lt;svg onload&#x3D;1&gt;');
    expect(out.text).toContain(`Hello ${hostile},`);
    expect(out.text).toContain('"><svg onload=1> created a staff account for you at Takedown Desk, with the role moderator<b>.');
  });

  it('when a staff account email is rendered, then it tells where to sign in and never carries a password', () => {
    const out = renderer.render('staff-account-created', { name: 'Grace', email: 'grace@example.org', role: 'admin', createdBy: null });
    expect(out.subject).toBe('Your staff account at Takedown Desk');
    expect(out.text).toContain('An administrator created a staff account for you at Takedown Desk, with the role admin.');
    expect(out.text).toContain('Sign in at https://desk.example.org/login with this email address (grace@example.org).');
    expect(out.text).toMatch(/never sent by email/);
    expect(out.html).toContain('href="https://desk.example.org/login"');
    expect(out.text).toContain('This is an automatic message from Takedown Desk (https://desk.example.org).');
    expect(out.text).not.toMatch(/\{\{|\}\}/);
  });

  it('when the data has a notice reference, then the subject carries it once', () => {
    expect(renderer.render('sample-notice', { work: 'My photo', reference: 'TD-000123' }).subject).toBe(
      '[TD-000123] Your notice about My photo',
    );
    expect(renderer.render('sample-notice', { work: 'TD-000123', reference: 'TD-000123' }).subject).toBe('Your notice about TD-000123');
    expect(renderer.render('sample-notice', { work: 'My photo' }).subject).toBe('Your notice about My photo');
  });

  it('when a subject value carries CR/LF or other line breaks, then the subject is one clean line, bounded', () => {
    const out = renderer.render('sample-notice', { work: 'a\r\nBcc: x@example.org\u2028b\u0085c\td' });
    expect(out.subject).toBe('Your notice about a Bcc: x@example.org b c d');
    expect(cleanHeaderText('x'.repeat(500))).toHaveLength(200);
    expect(cleanHeaderText(' \r\n ')).toBe('');
  });

  it('when a link value is not http(s), then it renders as nothing', () => {
    expect(httpUrl('https://example.org/a?b=c')).toBe('https://example.org/a?b=c');
    for (const bad of ['javascript:alert(1)', 'data:text/html,x', ' vbscript:x', 'https://exa mple.org', 42, null])
      expect(httpUrl(bad)).toBe('');
    const out = renderer.render('sample-notice', { statusUrl: 'javascript:alert(1)' });
    expect(out.html).toContain('href=""');
  });

  it('when a template is unknown or its name is a path, then rendering refuses it', () => {
    expect(() => renderer.render('no-such-template', {})).toThrow(/not found/);
    expect(() => renderer.render('../layouts/email', {})).toThrow(/not found/);
    expect(renderer.has('staff-account-created')).toBe(true);
    expect(renderer.has('../../package')).toBe(false);
  });
});

describe('email templates in views/emails', () => {
  const templates = listTemplates();

  it('when listed, then each has both parts and starts its text part with a subject line', () => {
    expect(templates).toContain('staff-account-created');
    for (const name of templates) {
      const text = readFileSync(path.join(emailTemplatesDir, `${name}.txt.hbs`), 'utf8');
      expect(text).toMatch(/^\{\{!--\s*subject:\s*\S[^\n]*--\}\}/);
    }
    const files = readdirSync(emailTemplatesDir).filter((f) => f.endsWith('.hbs'));
    for (const f of files) expect(templates).toContain(f.replace(/\.(html|txt)\.hbs$/, ''));
  });

  it('when any template is read, then none uses {{{ }}} (only the HTML layout inserts the already-escaped body)', () => {
    for (const file of filesUnder(emailTemplatesDir).filter((f) => f.endsWith('.hbs'))) {
      const raw = readFileSync(file, 'utf8').match(/\{\{\{[^}]*\}\}\}|\{\{&/g) ?? [];
      const allowed = file.endsWith(path.join('layouts', 'email.html.hbs')) ? ['{{{body}}}'] : [];
      expect({ file: path.relative(emailTemplatesDir, file), raw }).toEqual({ file: path.relative(emailTemplatesDir, file), raw: allowed });
    }
  });

  it('when the code enqueues a template by name, then that template exists', () => {
    const used = new Set<string>();
    for (const file of filesUnder(SRC).filter((f) => f.endsWith('.ts'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/enqueue\(\s*\w+\s*,\s*'([a-z0-9-]+)'/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(0);
    for (const name of used) expect({ name, exists: templates.includes(name) }).toEqual({ name, exists: true });
  });
});

describe('outbox helpers', () => {
  it('when an address is checked, then only one plain address passes', () => {
    for (const ok of ['a@example.org', 'first.last+tag@sub.example.co.uk', 'admin@localhost', 'josé@example.org'])
      expect(isDeliverableAddress(ok)).toBe(true);
    for (const bad of [
      'a@example.org\r\nBcc: b@example.org',
      'a@example.org\n',
      'A <a@example.org>',
      'a@example.org,b@example.org',
      'a b@example.org',
      '"a"@example.org',
      'nope',
      '',
      'a@' + 'x'.repeat(260) + '.org',
      null,
    ]) {
      expect(isDeliverableAddress(bad)).toBe(false);
    }
  });

  it('when a Message-ID is made for a row, then it is derived from the row id and the MAIL_FROM domain', () => {
    expect(messageIdFor('0b6c1b1e-1111-4222-8333-944455556666', 'Takedown Desk <desk@takedown.example>')).toBe(
      '<outbox-0b6c1b1e-1111-4222-8333-944455556666@takedown.example>',
    );
    expect(messageIdFor('x', 'plain@host.test')).toBe('<outbox-x@host.test>');
  });

  it('when retries are scheduled, then the delay doubles per attempt, is jittered between half and all of it, and is capped', () => {
    const base = 60_000;
    const max = 4 * 3_600_000;
    expect(retryDelayMs(1, base, max, () => 0)).toBe(30_000);
    expect(retryDelayMs(1, base, max, () => 0.999999)).toBeCloseTo(60_000, -1);
    expect(retryDelayMs(3, base, max, () => 0)).toBe(120_000);
    expect(retryDelayMs(30, base, max, () => 0.999999)).toBeLessThanOrEqual(max);
    expect(retryDelayMs(30, base, max, () => 0)).toBe(max / 2);
    for (let a = 1; a < 12; a++)
      expect(retryDelayMs(a + 1, base, max, () => 0)).toBeGreaterThanOrEqual(retryDelayMs(a, base, max, () => 0));
  });

  it('when SMTP refuses, then only a 5xx for this recipient or message is permanent; outages and our own settings are retried', () => {
    expect(isPermanentRejection({ code: 'EENVELOPE', command: 'RCPT TO', responseCode: 550, permanent: true })).toBe(true);
    expect(isPermanentRejection({ code: 'EMESSAGE', command: 'DATA', responseCode: 554, permanent: true })).toBe(true);
    expect(isPermanentRejection({ code: 'EENVELOPE', command: 'RCPT TO', responseCode: 450, permanent: false })).toBe(false);
    expect(isPermanentRejection({ code: 'EENVELOPE', command: 'RCPT TO', responseCode: 503, permanent: false })).toBe(false);
    expect(isPermanentRejection({ code: 'EAUTH', command: 'AUTH PLAIN', responseCode: 535, permanent: true })).toBe(false);
    expect(isPermanentRejection({ code: 'EENVELOPE', command: 'MAIL FROM', responseCode: 553, permanent: true })).toBe(false);
    expect(isPermanentRejection({ code: 'ESOCKET', command: 'CONN' })).toBe(false);
    expect(isPermanentRejection(new Error('boom'))).toBe(false);
  });
});
