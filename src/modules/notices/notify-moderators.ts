import { EntityManager } from 'typeorm';
import type { AppDeps } from '../../deps';
import { staffEmails } from '../auth';
import { enqueueMany, QueuedEmail } from '../mail';
import type { Notice } from './notice.entity';

/** Active staff who receive queue notifications. */
const moderatorEmails = (tx: EntityManager) => staffEmails(tx);

/** Whether each new notice is emailed to the moderators at once (otherwise the digest job does it). */
export function notifiesEachNotice(config: AppDeps['config']): boolean {
  return config.policy.moderatorDigestMinutes <= 0;
}

/** Who gets a "new notice" email now: nobody when moderators take a digest instead. */
export async function moderatorsToNotify(tx: EntityManager, config: AppDeps['config']): Promise<string[]> {
  return notifiesEachNotice(config) ? moderatorEmails(tx) : [];
}

/**
 * "New notice" to every moderator, in the caller's transaction — unless moderators asked for a
 * digest (MODERATOR_DIGEST_MINUTES > 0): then the digest job sends one email per period instead.
 * `recipients` may be looked up beforehand, outside the transaction.
 */
export async function notifyModerators(
  tx: EntityManager,
  deps: Pick<AppDeps, 'config'>,
  notice: Notice,
  urls: number,
  matched: number,
  recipients?: string[],
): Promise<void> {
  const to = recipients ?? (await moderatorsToNotify(tx, deps.config));
  await enqueueMany(tx, moderatorNotifications(deps, notice, urls, matched, to));
}

/** The "new notice" emails themselves, for a caller that queues them with its own emails. */
export function moderatorNotifications(
  deps: Pick<AppDeps, 'config'>,
  notice: Notice,
  urls: number,
  matched: number,
  recipients: string[],
): QueuedEmail[] {
  const data = {
    reference: notice.reference,
    claimType: notice.claimType,
    organization: notice.organization,
    urls,
    matched,
    flags: notice.flags.map((f) => f.reason),
    dueAt: notice.dueAt?.toISOString() ?? null,
    noticeUrl: `${deps.config.publicBaseUrl}/notices/${notice.reference}`,
  };
  return recipients.map((to) => ({
    template: 'notice-new',
    to,
    data,
    opts: { noticeId: notice.id, dedupeKey: `notice-new:${notice.id}:${to}` },
  }));
}

/**
 * The digest: one email per moderator listing the notices that entered the queue in the last
 * complete period. Safe with several instances: the dedupe key names the period.
 */
export async function sendModeratorDigest(tx: EntityManager, deps: Pick<AppDeps, 'config' | 'clock'>): Promise<number> {
  const minutes = deps.config.policy.moderatorDigestMinutes;
  if (minutes <= 0) return 0;
  const period = minutes * 60_000;
  const end = Math.floor(deps.clock.now().getTime() / period) * period;
  const start = end - period;
  const notices: { reference: string; claim_type: string; organization: string | null; flags: { reason: string }[] }[] = await tx.query(
    `SELECT reference, claim_type, organization, flags FROM notices WHERE queued_at >= $1 AND queued_at < $2 ORDER BY queued_at, reference`,
    [new Date(start), new Date(end)],
  );
  if (!notices.length) return 0;
  const recipients = await moderatorEmails(tx);
  const data = {
    from: new Date(start).toISOString(),
    to: new Date(end).toISOString(),
    count: notices.length,
    notices: notices.map((n) => ({
      reference: n.reference,
      claimType: n.claim_type,
      organization: n.organization,
      flags: n.flags.map((f) => f.reason),
      noticeUrl: `${deps.config.publicBaseUrl}/notices/${n.reference}`,
    })),
    queueUrl: `${deps.config.publicBaseUrl}/queue`,
  };
  await enqueueMany(
    tx,
    recipients.map((to) => ({ template: 'notice-digest', to, data, opts: { dedupeKey: `notice-digest:${start}:${to}` } })),
  );
  return recipients.length;
}
