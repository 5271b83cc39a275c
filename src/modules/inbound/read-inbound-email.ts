import type { AppDeps } from '../../deps';
import { isReplyAddress, noticeIdOfReplyAddress } from '../../shared/reply-key';
import { isDeliverableAddress } from '../mail';
import type { EmailThread } from '../mail';
import type { EmailedNotice, MissingElement } from '../notices';
import type { InboundEnvelope, SenderAuth } from './inbound-email.entity';
import { knownOriginalUrls } from './inbound.queries';
import {
  autoReplyReason,
  ExtractedNotice,
  findMessageUrls,
  forgetLastAnswers,
  InboundMessage,
  MessageSource,
  parseNoticeEmail,
  readMessage,
} from './parse';
import { authenticateSender, DnsResolver } from './sender-auth';

export type ReadDeps = Pick<AppDeps, 'db' | 'config' | 'sessionSecret'> & { resolver?: DnsResolver };

/** What a stored message turned out to be (decided before the outcome's transaction). */
export type Verdict =
  | { kind: 'ignore'; reason: string }
  | { kind: 'reply'; noticeId: string; text: string; from: string | null }
  | { kind: 'notice'; ex: ExtractedNotice; from: { address: string; name: string | null } };

export interface ReadResult {
  msg: InboundMessage;
  auth: SenderAuth;
  verdict: Verdict;
  extracted: Record<string, unknown> | null;
}

const MAX_TARGETS = 1000;

/**
 * Reads a stored message (no transaction: DNS for SPF/DKIM/DMARC, the registry for our items'
 * original URLs) and says what it is. Loop safety first: automatic mail (auto-replies, bounces,
 * bulk and list mail, an empty return path) is never answered and never a notice, even when it
 * reaches a reply address.
 */
export async function readInboundEmail(deps: ReadDeps, raw: MessageSource, envelope: InboundEnvelope, size?: number): Promise<ReadResult> {
  try {
    return await read(deps, raw, envelope, size);
  } finally {
    // The parser's last answers hold this message's text until the next one: not kept (issue 18).
    forgetLastAnswers();
  }
}

async function read(deps: ReadDeps, raw: MessageSource, envelope: InboundEnvelope, size?: number): Promise<ReadResult> {
  const { config } = deps;
  // Only the attachments the parser reads keep their bytes: the others stay in the stored message
  // (the mailbox reads them from there), issue 18.
  const msg = await readMessage(raw, { maxAttachmentBytes: config.inbound.maxBytes, onlyReadAttachments: true, size });
  const auth = await authenticateSender(raw, envelope, {
    dns: config.inbound.authDns,
    resolver: deps.resolver,
    mta: config.inbound.replyDomain,
  });
  const automatic = envelope.mailFrom === '' ? 'empty return path (bounce)' : autoReplyReason(msg);
  if (automatic) return { msg, auth, verdict: { kind: 'ignore', reason: `automatic mail: ${automatic}` }, extracted: null };

  const recipients = [...(envelope.rcptTo ?? []), ...msg.to].map((a) => a.toLowerCase());
  const replyTo = recipients.find((a) => isReplyAddress(a, config.inbound.replyDomain));
  if (replyTo) {
    const noticeId = noticeIdOfReplyAddress(deps.sessionSecret, replyTo, config.inbound.replyDomain);
    if (!noticeId)
      return { msg, auth, verdict: { kind: 'ignore', reason: 'reply address with an unknown or forged key' }, extracted: null };
    const ex = parseNoticeEmail(msg, { publicBaseUrl: config.publicBaseUrl, isItemOriginalUrl: () => false });
    return {
      msg,
      auth,
      verdict: { kind: 'reply', noticeId, text: ex.body, from: msg.from.address },
      extracted: { body: ex.body.slice(0, 20_000) },
    };
  }

  const known = await knownOriginalUrls(deps.db.manager, findMessageUrls(msg));
  const ex = parseNoticeEmail(msg, { publicBaseUrl: config.publicBaseUrl, isItemOriginalUrl: (n) => known.has(n) });
  const extracted = {
    ...ex,
    body: ex.body.slice(0, 20_000),
    infringingUrls: ex.infringingUrls.slice(0, 2000),
    originalUrls: ex.originalUrls.slice(0, 2000),
  };
  if (ex.kind !== 'notice') return { msg, auth, verdict: { kind: 'ignore', reason: ex.reason ?? 'not a notice' }, extracted };
  const from = msg.from.address?.toLowerCase() ?? null;
  if (!from || !isDeliverableAddress(from)) {
    return { msg, auth, verdict: { kind: 'ignore', reason: 'no usable From address: a notice needs an address to answer' }, extracted };
  }
  return { msg, auth, verdict: { kind: 'notice', ex, from: { address: from, name: msg.from.name } }, extracted };
}

const ELEMENT: Record<string, string> = {
  goodFaith: 'Statement of good-faith belief',
  accuracy: 'Statement of accuracy, under penalty of perjury',
  signature: 'Signature',
  infringingUrls: 'The infringing material: URLs on this site',
  workDescription: 'Identification of the copyrighted work',
  contact: 'Contact information',
  rightsOwner: 'The rights owner you act for',
};

/** The extracted fields as the notice to write (the notices module writes it). */
export function emailedNotice(
  ex: ExtractedNotice,
  from: { address: string; name: string | null },
  inboundEmailId: string,
  replyThread: EmailThread | null,
): EmailedNotice {
  const tooMany = ex.infringingUrls.length > MAX_TARGETS;
  const missing: MissingElement[] = ex.missing.map((m) => ({
    element: ELEMENT[m.element] ?? m.element,
    paragraph: m.paragraph,
    message: m.message,
  }));
  if (tooMany) {
    missing.push({
      element: ELEMENT.infringingUrls,
      paragraph: '§ 512(c)(3)(A)(iii)',
      message: `A notice can name at most ${MAX_TARGETS} URLs; this email named ${ex.infringingUrls.length}. Send several notices.`,
    });
  }
  const country = ex.country && /^[A-Za-z]{2}$/.test(ex.country) ? ex.country.toUpperCase() : 'ZZ';
  return {
    name: ex.name || from.name || from.address.split('@')[0],
    organization: ex.organization,
    email: from.address,
    phone: ex.phone && /^\+?[0-9 ().\-/]{5,40}$/.test(ex.phone) ? ex.phone : null,
    address: ex.address ?? '',
    country,
    role: ex.role ?? 'owner',
    rightsOwner: ex.rightsOwner,
    workDescription: ex.workDescription ?? '',
    goodFaithStatement: ex.goodFaith ? (ex.goodFaithStatement ?? 'Made in the email (see the message).') : '',
    accuracyStatement: ex.accuracy ? (ex.accuracyStatement ?? 'Made in the email (see the message).') : '',
    signature: ex.signature ?? '',
    claimType: 'copyright',
    complete: ex.complete && !tooMany,
    missing,
    replyThread,
    inboundEmailId,
  };
}
