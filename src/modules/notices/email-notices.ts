import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import type { AppDeps } from '../../deps';
import { PUBLIC, record, RequestContext } from '../audit';
import { EmailThread, enqueueMany, QueuedEmail } from '../mail';
import type { ClaimType, ComplainantRole } from './notice.dto';
import { Notice } from './notice.entity';
import { insertPreparedNotice, intakeEmails, PreparedIntake } from './intake';
import { newStatusToken } from './status-token';
import { queueNoticeEvents } from '../webhooks';

type Deps = Pick<AppDeps, 'config' | 'clock'>;

/** One missing element of SPEC §4, named with its statute paragraph. */
export interface MissingElement {
  element: string;
  paragraph: string;
  message: string;
}

/** What was read out of an email, shaped for the notice (the inbound module reads; this module writes). */
export interface EmailedNotice {
  name: string;
  organization: string | null;
  email: string;
  phone: string | null;
  address: string;
  /** ISO alpha-2, or `ZZ` (ISO's "unknown") when the email does not say. */
  country: string;
  role: ComplainantRole;
  rightsOwner: string | null;
  workDescription: string;
  /** The statements as the sender worded them; '' when not made. */
  goodFaithStatement: string;
  accuracyStatement: string;
  signature: string;
  claimType: ClaimType;
  complete: boolean;
  missing: MissingElement[];
  /** Thread the automatic reply under the message; null: no reply (loop safety, rate cap). */
  replyThread: EmailThread | null;
  inboundEmailId: string;
}

const cut = (s: string | null | undefined, n: number) => (s ?? '').trim().slice(0, n);

/**
 * An emailed notice becomes a notice (SPEC §12), in the caller's transaction: `pending` with the
 * usual triage and the acknowledgement when complete; `incomplete` with the `notice-incomplete`
 * reply (each missing element, and the link to the form pre-filled with what was understood)
 * otherwise. The replies go in the message's thread.
 */
export async function takeEmailedNotice(
  tx: EntityManager,
  deps: Deps,
  e: EmailedNotice,
  p: PreparedIntake,
  context: RequestContext = {},
): Promise<Notice> {
  const { config } = deps;
  const now = deps.clock.now();
  const { token, hash } = newStatusToken();
  const status = e.complete ? 'pending' : 'incomplete';
  const notice = tx
    .getRepository(Notice)
    .create(emailedNoticeRow(e, p, { tokenHash: hash, status, now, slaHours: config.policy.slaHours }));
  await insertPreparedNotice(tx, notice, p);
  await queueNoticeEvents(tx, deps, notice, { from: null, at: now });
  const details = {
    channel: 'email',
    claimType: notice.claimType,
    status,
    urls: p.targets.length,
    matched: p.matched,
    flags: p.flags.map((f) => f.code),
    inboundEmailId: e.inboundEmailId,
  };
  await record(tx, {
    actor: PUBLIC,
    action: 'notice.submitted',
    subject: { type: 'notice', id: notice.reference },
    details,
    context,
    at: now,
  });
  if (!e.complete) {
    await record(tx, {
      actor: PUBLIC,
      action: 'notice.incomplete',
      subject: { type: 'notice', id: notice.reference },
      details: { missing: e.missing.map((m) => m.element), replied: !!e.replyThread },
      context,
      at: now,
    });
  }
  const statusUrl = `${config.publicBaseUrl}/takedown/${notice.reference}?token=${token}`;
  const thread = e.replyThread ? { thread: e.replyThread } : null;
  const emails: QueuedEmail[] = e.complete
    ? intakeEmails(
        deps,
        notice,
        p,
        { statusUrl, verifyUrl: null },
        { opts: { noticeId: notice.id, dedupeKey: `notice-received:${notice.id}`, ...thread } },
      )
    : [incompleteEmail(deps, notice, p, e.missing, `${config.publicBaseUrl}/takedown/complete/${notice.reference}?token=${token}`, thread)];
  // No reply (an automatic sender, the hourly cap): the moderators' emails still go.
  await enqueueMany(tx, thread ? emails : emails.filter((m) => m.to !== notice.email || m.template === 'notice-new'));
  return notice;
}

function incompleteEmail(
  deps: Deps,
  notice: Notice,
  p: PreparedIntake,
  missing: MissingElement[],
  completeUrl: string,
  thread: { thread: EmailThread } | null,
): QueuedEmail {
  return {
    template: 'notice-incomplete',
    to: notice.email,
    data: {
      reference: notice.reference,
      name: notice.name,
      missing,
      understood: {
        urls: p.targets.map((t, i) => ({ url: t.url, matched: !!p.items[i] })),
        originalUrls: p.originalUrls.slice(0, 20),
        signature: notice.signature || null,
        organization: notice.organization,
        address: notice.address || null,
        role: notice.role,
        rightsOwner: notice.rightsOwner,
      },
      completeUrl,
      incompleteDays: deps.config.inbound.incompleteDays,
    },
    opts: { noticeId: notice.id, dedupeKey: `notice-incomplete:${notice.id}`, ...thread },
  };
}

/** The notice row of an emailed notice, from what was read out of the message and what the intake found. */
function emailedNoticeRow(
  e: EmailedNotice,
  p: PreparedIntake,
  f: { tokenHash: string; status: 'pending' | 'incomplete'; now: Date; slaHours: number },
): Partial<Notice> {
  return {
    id: randomUUID(),
    reference: p.reference,
    status: f.status,
    claimType: e.claimType,
    name: cut(e.name, 200) || e.email,
    organization: cut(e.organization, 200) || null,
    email: e.email.toLowerCase(),
    phone: cut(e.phone, 40) || null,
    address: cut(e.address, 1000),
    country: e.country,
    role: e.role,
    rightsOwner: e.role === 'agent' ? cut(e.rightsOwner, 200) || null : null,
    workDescription: cut(e.workDescription, 5000),
    originalUrls: p.originalUrls.slice(0, 100),
    goodFaithStatement: cut(e.goodFaithStatement, 2000),
    accuracyStatement: cut(e.accuracyStatement, 2000),
    statementsAt: f.now,
    signature: cut(e.signature, 200),
    submittedAt: f.now,
    channel: 'email',
    submitterIp: null,
    statusTokenHash: f.tokenHash,
    flags: p.flags,
    queuedAt: e.complete ? f.now : null,
    dueAt: e.complete ? new Date(f.now.getTime() + f.slaHours * 3_600_000) : null,
  };
}
