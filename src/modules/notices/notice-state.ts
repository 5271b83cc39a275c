import { AppError } from '../../shared/errors';

/**
 * The notice lifecycle (SPEC §3): the ONLY table of legal transitions. Use cases, views (which
 * buttons to show) and tests all ask it; nothing assigns a status any other way.
 */
export const NOTICE_STATUSES = [
  'unverified',
  'pending',
  'in_review',
  'needs_info',
  'approved',
  'countered',
  'rejected',
  'withdrawn',
  'spam',
  'restored',
  'upheld',
  'incomplete',
] as const;
export type NoticeStatus = (typeof NOTICE_STATUSES)[number];

export const NOTICE_EVENTS = [
  'verify',
  'expire',
  'withdraw',
  'claim',
  'release',
  'approve',
  'reject',
  'request_info',
  'answer',
  'spam',
  'counter',
  'restore',
  'uphold',
  'reopen',
  'reverse',
  'complete',
] as const;
export type NoticeEvent = (typeof NOTICE_EVENTS)[number];

const TABLE: Readonly<Record<NoticeStatus, Partial<Record<NoticeEvent, NoticeStatus>>>> = {
  // Waiting for the complainant to confirm their email (REQUIRE_EMAIL_VERIFICATION).
  // An unconfirmed notice expires after 7 days; it ends as `withdrawn` (no status of its own).
  unverified: { verify: 'pending', withdraw: 'withdrawn', expire: 'withdrawn' },
  pending: { claim: 'in_review', withdraw: 'withdrawn', spam: 'spam' },
  in_review: { approve: 'approved', reject: 'rejected', request_info: 'needs_info', spam: 'spam', release: 'pending' },
  // `reject` here is the automatic rejection when the question was not answered in time.
  needs_info: { answer: 'pending', withdraw: 'withdrawn', reject: 'rejected' },
  // `reverse`: a complaint against the removal (SPEC §18) was decided for the source.
  approved: { counter: 'countered', reverse: 'restored' },
  countered: { restore: 'restored', uphold: 'upheld' },
  // An emailed notice that lacks required elements (SPEC §12): the sender was told what is missing.
  // Out of the queue; `complete` when the missing elements are given (by the sender's link or by
  // staff), `expire` after INCOMPLETE_DAYS (ends `withdrawn`), or spam.
  incomplete: { complete: 'pending', withdraw: 'withdrawn', expire: 'withdrawn', spam: 'spam' },
  // `reopen`: a complaint against the rejection (SPEC §18) was decided for the notifier; the notice
  // goes back to the queue for a fresh decision.
  rejected: { reopen: 'pending' },
  withdrawn: {},
  spam: {},
  restored: {},
  upheld: {},
};

/** Events that only a decided complaint causes (SPEC §18): a status left only through them is final. */
export const COMPLAINT_EVENTS: readonly NoticeEvent[] = ['reopen', 'reverse'];

export const FINAL_STATUSES: readonly NoticeStatus[] = NOTICE_STATUSES.filter((s) =>
  Object.keys(TABLE[s]).every((e) => COMPLAINT_EVENTS.includes(e as NoticeEvent)),
);

/** Statuses in which a notice waits for a moderator (the queue). */
export const OPEN_STATUSES: readonly NoticeStatus[] = ['pending', 'in_review', 'needs_info'];

export function nextStatus(from: NoticeStatus, event: NoticeEvent): NoticeStatus | undefined {
  return TABLE[from]?.[event];
}

export function can(from: NoticeStatus, event: NoticeEvent): boolean {
  return nextStatus(from, event) !== undefined;
}

/** The status after `event`, or a 409 naming what is not allowed. */
export function transition(from: NoticeStatus, event: NoticeEvent): NoticeStatus {
  const to = nextStatus(from, event);
  if (!to) {
    throw AppError.conflict('NOTICE.INVALID_TRANSITION', `A notice that is ${from.replace('_', ' ')} cannot be ${PAST[event]}.`, {
      from,
      event,
    });
  }
  return to;
}

/** The events allowed from a status (e.g. to decide which buttons a page shows). */
export function allowedEvents(from: NoticeStatus): NoticeEvent[] {
  return (Object.keys(TABLE[from] ?? {}) as NoticeEvent[]).filter((e) => !COMPLAINT_EVENTS.includes(e));
}

export function isFinal(status: NoticeStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

const PAST: Record<NoticeEvent, string> = {
  verify: 'verified',
  expire: 'expired',
  withdraw: 'withdrawn',
  claim: 'claimed',
  release: 'released',
  approve: 'approved',
  reject: 'rejected',
  request_info: 'sent a question',
  answer: 'answered',
  spam: 'marked as spam',
  counter: 'counter-noticed',
  restore: 'restored',
  uphold: 'upheld',
  reopen: 'reopened',
  reverse: 'reversed',
  complete: 'completed',
};

/** SQL for the CHECK constraint on notices.status, generated from the same list. */
export const STATUS_CHECK_SQL = `"status" IN (${NOTICE_STATUSES.map((s) => `'${s}'`).join(', ')})`;
