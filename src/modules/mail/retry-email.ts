import { EntityManager } from 'typeorm';
import { AppError } from '../../shared/errors';
import { Actor, record, RequestContext } from '../audit';
import { OutboundEmail } from './outbound-email.entity';
import { isEmailId } from './outbox.queries';

/**
 * An admin puts a failed email back in the queue (after fixing the address, the SMTP settings, or
 * when the recipient's server is back). It gets a fresh set of attempts and is due at once.
 */
export async function retryEmail(
  tx: EntityManager,
  cmd: { id: string; actor: Actor; context?: RequestContext; at: Date },
): Promise<OutboundEmail> {
  if (!isEmailId(cmd.id)) throw AppError.notFound('Email', 'EMAIL.NOT_FOUND');
  const repo = tx.getRepository(OutboundEmail);
  const email = await repo.createQueryBuilder('e').setLock('pessimistic_write').where('e.id = :id', { id: cmd.id }).getOne();
  if (!email) throw AppError.notFound('Email', 'EMAIL.NOT_FOUND');
  if (email.status !== 'failed') {
    throw AppError.conflict('EMAIL.NOT_FAILED', `Only a failed email can be retried; this one is ${email.status}.`, {
      status: email.status,
    });
  }
  const before = { status: email.status, attempts: email.attempts, lastError: email.lastError };
  await tx.query(`UPDATE outbound_emails SET status = 'queued', attempts = 0, next_attempt_at = now() WHERE id = $1`, [email.id]);
  await record(tx, {
    actor: cmd.actor,
    action: 'email.retried',
    subject: { type: 'email', id: email.id },
    details: { template: email.template, to: email.to, noticeId: email.noticeId, before, after: { status: 'queued', attempts: 0 } },
    context: cmd.context,
    at: cmd.at,
  });
  return Object.assign(email, { status: 'queued', attempts: 0 });
}

/**
 * After an outage longer than the retry schedule, many emails end `failed`: this queues up to
 * `limit` of them again (oldest first), each its own `email.retried` event, in one transaction.
 */
export async function retryFailedEmails(
  tx: EntityManager,
  cmd: { actor: Actor; context?: RequestContext; limit?: number; at: Date },
): Promise<number> {
  const rows: { id: string; template: string; to: string; notice_id: string | null; attempts: number; last_error: string | null }[] =
    await tx.query(
      `SELECT id, template, "to", notice_id, attempts, last_error FROM outbound_emails
      WHERE status = 'failed' ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [cmd.limit ?? 1000],
    );
  if (!rows.length) return 0;
  await tx.query(`UPDATE outbound_emails SET status = 'queued', attempts = 0, next_attempt_at = now() WHERE id = ANY($1::uuid[])`, [
    rows.map((r) => r.id),
  ]);
  for (const r of rows) {
    await record(tx, {
      actor: cmd.actor,
      action: 'email.retried',
      subject: { type: 'email', id: r.id },
      details: {
        template: r.template,
        to: r.to,
        noticeId: r.notice_id,
        bulk: true,
        before: { status: 'failed', attempts: r.attempts, lastError: r.last_error },
        after: { status: 'queued', attempts: 0 },
      },
      context: cmd.context,
      at: cmd.at,
    });
  }
  return rows.length;
}
