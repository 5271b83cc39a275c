import { Readable } from 'node:stream';
import type { authenticate as Authenticate } from 'mailauth';
import type { InboundEnvelope, SenderAuth } from './inbound-email.entity';

/** A DNS resolver as mailauth calls it (`dns.promises.resolve`'s shape); tests inject their own. */
export type DnsResolver = (name: string, rrtype: string) => Promise<unknown>;

const NONE: SenderAuth = { spf: 'none', dkim: 'none', dmarc: 'none', domain: null, details: ['not checked (INBOUND_AUTH_DNS=off)'] };
const TIMEOUT_MS = 15_000;

interface MailauthResult {
  dkim?: {
    headerFrom?: string[];
    results?: { signingDomain?: string; status?: { result?: string; aligned?: string | false }; info?: string }[];
  };
  spf?: false | { domain?: string; status?: { result?: string }; info?: string };
  dmarc?: false | { domain?: string; status?: { result?: string }; info?: string };
}

/**
 * SPF, DKIM and DMARC of a stored message (SPEC §12), with mailauth. Network (DNS) only: it runs in
 * the parse job, never inside a transaction. `dns: false` (INBOUND_AUTH_DNS=off) records `none`.
 * The SMTP receiver knows the client's IP and HELO; for IMAP and the API the last Received header
 * stands in for them.
 */
export async function authenticateSender(
  raw: Buffer | (() => AsyncIterable<Buffer>),
  envelope: InboundEnvelope,
  opts: { dns: boolean; resolver?: DnsResolver; mta?: string },
): Promise<SenderAuth> {
  if (!opts.dns) return { ...NONE };
  // Loaded on first use (16 MB of RSS, issue 18): a server that reads no mail never pays for it.
  const { authenticate } = (await import('mailauth')) as { authenticate: typeof Authenticate };
  // A message read piece by piece goes to mailauth as a stream (it hashes the body as it comes).
  const input = Buffer.isBuffer(raw) ? raw : Readable.from(raw());
  const run = authenticate(input, {
    ip: envelope.remoteIp ?? undefined,
    helo: envelope.helo ?? undefined,
    sender: envelope.mailFrom || undefined,
    mta: opts.mta,
    trustReceived: !envelope.remoteIp,
    resolver: opts.resolver,
    disableArc: true,
    disableBimi: true,
  } as Parameters<typeof Authenticate>[1]) as Promise<MailauthResult>;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), TIMEOUT_MS);
  });
  try {
    const r = await Promise.race([run, timeout]);
    if (r === 'timeout')
      return { spf: 'temperror', dkim: 'temperror', dmarc: 'temperror', domain: null, details: ['DNS lookups timed out'] };
    return summarise(r);
  } catch (err) {
    return {
      spf: 'temperror',
      dkim: 'temperror',
      dmarc: 'temperror',
      domain: null,
      details: [`could not check: ${String((err as Error)?.message ?? err).slice(0, 200)}`],
    };
  } finally {
    clearTimeout(timer);
    // A stream mailauth gave up on (the timeout) lets go of what it reads from.
    if (!Buffer.isBuffer(input)) input.destroy();
  }
}

function summarise(r: MailauthResult): SenderAuth {
  const dkims = r.dkim?.results ?? [];
  const dkim = dkims.some((d) => d.status?.result === 'pass') ? 'pass' : (dkims[0]?.status?.result ?? 'none');
  const spf = (r.spf && r.spf.status?.result) || 'none';
  const dmarc = (r.dmarc && r.dmarc.status?.result) || 'none';
  const details = [...dkims.map((d) => d.info), r.spf ? r.spf.info : undefined, r.dmarc ? r.dmarc.info : undefined]
    .filter((x): x is string => typeof x === 'string')
    .map((x) => x.slice(0, 300));
  const domain = (r.dmarc && r.dmarc.domain) || r.dkim?.headerFrom?.[0]?.split('@').pop() || null;
  return { spf, dkim, dmarc, domain, details };
}

/**
 * SPEC §12: the flag `sender_unauthenticated` when DMARC fails for the From domain, or when SPF and
 * DKIM both fail. `none` everywhere (not checked, or a domain that publishes nothing) is not a failure.
 */
export function isUnauthenticated(a: SenderAuth | Record<string, never>): boolean {
  const x = a as Partial<SenderAuth>;
  if (x.dmarc === 'fail') return true;
  const spfFailed = x.spf === 'fail' || x.spf === 'softfail';
  const dkimFailed = x.dkim === 'fail' || x.dkim === 'neutral' || x.dkim === 'policy';
  return spfFailed && (dkimFailed || x.dkim === 'none');
}
