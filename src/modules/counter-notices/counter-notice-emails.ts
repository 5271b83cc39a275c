import { EntityManager } from 'typeorm';
import type { AppDeps } from '../../deps';
import { enqueue } from '../mail';
import type { Notice } from '../notices';
import type { CounterNotice } from './counter-notice.entity';

/**
 * The emails a received counter-notice queues (views/emails/counter-notice-*): § 512(g)(2)(B) — the
 * complainant gets a copy and learns the restoration date and what stops it; the counter-notifier
 * a receipt; every active staff member a note for the queue.
 */
export async function queueCounterNoticeEmails(
  tx: EntityManager,
  deps: Pick<AppDeps, 'config'>,
  notice: Notice,
  cn: CounterNotice,
  items: { title: string; url: string }[],
  staff: string[],
): Promise<void> {
  const { config } = deps;
  const copy = {
    name: cn.name,
    email: cn.email,
    phone: cn.phone,
    address: cn.address,
    country: cn.country,
    explanation: cn.explanation,
    urls: cn.urls,
    mistakeStatement: cn.mistakeStatement,
    consentStatement: cn.consentStatement,
    signature: cn.signature,
    receivedAt: cn.receivedAt.toISOString(),
  };
  const common = {
    reference: notice.reference,
    items,
    restoreAfter: cn.restoreAfter.toISOString(),
    restoreBusinessDays: config.policy.restoreBusinessDays,
    agentEmail: config.dmcaAgent.email,
  };
  await enqueue(
    tx,
    'counter-notice-forwarded',
    notice.email,
    { ...common, complainantName: notice.name, counter: copy },
    {
      noticeId: notice.id,
      dedupeKey: `counter-notice-forwarded:${cn.id}`,
      replyTo: config.dmcaAgent.email,
    },
  );
  await enqueue(
    tx,
    'counter-notice-received',
    cn.email,
    { ...common, counter: copy },
    {
      noticeId: notice.id,
      dedupeKey: `counter-notice-received:${cn.id}`,
      replyTo: config.dmcaAgent.email,
    },
  );
  for (const to of staff) {
    await enqueue(
      tx,
      'counter-notice-new',
      to,
      { ...common, counterName: cn.name, staffUrl: `${config.publicBaseUrl}/counter-notices` },
      {
        noticeId: notice.id,
        dedupeKey: `counter-notice-new:${cn.id}:${to}`,
      },
    );
  }
}
