import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { Actor, record, RequestContext } from '../audit';
import { attachEmailReply, completeNotice, findByReference, NoticeDto, submitNotice } from '../notices';
import { findInbound, setOutcome } from './inbound.queries';

type Deps = Pick<AppDeps, 'db' | 'clock' | 'config' | 'sessionSecret'>;
interface StaffCmd {
  id: string;
  actor: Actor;
  context: RequestContext;
}

/** Statuses staff may still act on: nothing was made of the email (or reading it failed). */
const OPEN = ['received', 'ignored', 'failed'];

async function lockEmail(tx: Parameters<Parameters<typeof withTransaction>[1]>[0], id: string) {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
  const [row] = uuid ? await tx.query(`SELECT id, status, notice_id, extracted FROM inbound_emails WHERE id = $1 FOR UPDATE`, [id]) : [];
  if (!row) throw AppError.notFound('Inbound email', 'INBOUND.NOT_FOUND');
  return row as { id: string; status: string; notice_id: string | null; extracted: Record<string, unknown> | null };
}

/** A moderator sets an email aside (`ignored`, with their reason). */
export function ignoreInboundEmail(deps: Deps, cmd: StaffCmd & { reason: string }) {
  const reason = cmd.reason.trim().slice(0, 500) || 'set aside by staff';
  return withTransaction(deps.db, async (tx) => {
    const row = await lockEmail(tx, cmd.id);
    if (!OPEN.includes(row.status))
      throw AppError.conflict('INBOUND.ALREADY_HANDLED', `This email is ${row.status.replace('_', ' ')}: it cannot be ignored now.`);
    const now = deps.clock.now();
    await setOutcome(tx, row.id, { status: 'ignored', reason, noticeId: null, extracted: row.extracted, auth: null, at: now });
    await record(tx, {
      actor: cmd.actor,
      action: 'inbound_email.ignored',
      subject: { type: 'inbound_email', id: row.id },
      details: { reason, before: row.status },
      context: cmd.context,
      at: now,
    });
  });
}

/** A moderator attaches an email to a notice (its timeline; an answer when the notice waits for one). */
export function attachInboundEmail(deps: Deps, cmd: StaffCmd & { reference: string }) {
  return withTransaction(deps.db, async (tx) => {
    const row = await lockEmail(tx, cmd.id);
    if (!OPEN.includes(row.status))
      throw AppError.conflict('INBOUND.ALREADY_HANDLED', `This email is ${row.status.replace('_', ' ')}: it already belongs somewhere.`);
    const notice = await findByReference(tx, cmd.reference.trim());
    if (!notice) throw AppError.validation([{ field: 'reference', message: 'No notice has this reference (TD-000123).' }]);
    const email = await findInbound(tx, row.id);
    const text = String((row.extracted as { body?: string } | null)?.body ?? email?.subject ?? '');
    const done = await attachEmailReply(tx, deps, { noticeId: notice.id, text, from: email?.from_address ?? null, inboundEmailId: row.id });
    const now = deps.clock.now();
    await setOutcome(tx, row.id, {
      status: 'reply_attached',
      reason: `attached by staff${done?.answered ? '; the answer to the question' : ''}`,
      noticeId: notice.id,
      extracted: row.extracted,
      auth: null,
      at: now,
    });
    await record(tx, {
      actor: cmd.actor,
      action: 'inbound_email.attached',
      subject: { type: 'inbound_email', id: row.id },
      details: { notice: notice.reference, before: row.status },
      context: cmd.context,
      at: now,
    });
    return notice.reference;
  });
}

/**
 * A moderator makes the notice from the email, with the extracted fields corrected: an
 * `incomplete` notice of this email is completed (`notice.completed`); an email that made no
 * notice gets one (channel `email`, the usual intake), and is linked to it.
 */
export async function noticeFromInboundEmail(deps: Deps, cmd: StaffCmd & { dto: NoticeDto }): Promise<string> {
  const email = await findInbound(deps.db.manager, cmd.id);
  if (!email) throw AppError.notFound('Inbound email', 'INBOUND.NOT_FOUND');
  if (email.status === 'incomplete' && email.notice_reference) {
    const { notice } = await completeNotice(deps, {
      reference: email.notice_reference,
      dto: cmd.dto,
      actor: cmd.actor,
      context: cmd.context,
    });
    return notice.reference;
  }
  if (!OPEN.includes(email.status))
    throw AppError.conflict('INBOUND.ALREADY_HANDLED', `This email is ${email.status.replace('_', ' ')}: its notice exists already.`);
  const { answer } = await submitNotice(deps, {
    dto: cmd.dto,
    channel: 'email',
    context: cmd.context,
    // The email is linked in the notice's own transaction: a notice, its email's outcome and both audit events, or nothing.
    alsoInTransaction: async (tx, notice) => {
      const row = await lockEmail(tx, cmd.id);
      if (!OPEN.includes(row.status)) throw AppError.conflict('INBOUND.ALREADY_HANDLED', 'This email was handled meanwhile.');
      const now = deps.clock.now();
      await setOutcome(tx, row.id, {
        status: 'notice_created',
        reason: 'notice made by staff',
        noticeId: notice.id,
        extracted: row.extracted,
        auth: null,
        at: now,
      });
      await record(tx, {
        actor: cmd.actor,
        action: 'inbound_email.read',
        subject: { type: 'inbound_email', id: row.id },
        details: { status: 'notice_created', notice: notice.reference, by: 'staff' },
        context: cmd.context,
        at: now,
      });
    },
  });
  return answer.reference;
}
