import { Transform } from 'class-transformer';
import { IsInt, IsString, Length, Max, Min } from 'class-validator';
import { EntityManager } from 'typeorm';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { Actor, record, RequestContext } from '../audit';
import { enqueue } from '../mail';
import { suspensionEmail, warningEmail } from './misuse-emails';
import { Submitter } from './submitter.entity';

/**
 * An admin's trust and misuse actions on a submitter (SPEC §14; DSA Art. 22 trusted flaggers,
 * Art. 23 measures against misuse). Each is ONE transaction: the change, its audit event and,
 * where the submitter is told, the email in the outbox.
 */

type Deps = Pick<AppDeps, 'db' | 'clock' | 'config'>;
interface ByStaff {
  submitterId: string;
  actor: Actor;
  context: RequestContext;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class WarnDto {
  @Transform(trimmed)
  @IsString()
  @Length(10, 2000, { message: 'Write what the submitter did wrong and what happens next (10 to 2,000 characters).' })
  message: string;
}

export class SuspendDto {
  @Transform(({ value }) => (typeof value === 'string' && /^\d{1,4}$/.test(value.trim()) ? Number(value) : value))
  @IsInt({ message: 'Enter the number of days, a whole number from 1 to 365.' })
  @Min(1, { message: 'Suspend for at least 1 day.' })
  @Max(365, { message: 'Suspend for at most 365 days.' })
  days: number;

  @Transform(trimmed)
  @IsString()
  @Length(10, 1000, { message: 'Give the reason the submitter will read (10 to 1,000 characters).' })
  reason: string;
}

async function locked(tx: EntityManager, id: string): Promise<Submitter> {
  if (!UUID.test(id)) throw AppError.notFound('Submitter', 'SUBMITTER.NOT_FOUND');
  const s = await tx.getRepository(Submitter).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  if (!s) throw AppError.notFound('Submitter', 'SUBMITTER.NOT_FOUND');
  return s;
}

/** Marks a submitter trusted (their next notices lead the queue) or not. False when nothing changed. */
export async function setTrusted(deps: Deps, cmd: ByStaff & { trusted: boolean }): Promise<boolean> {
  return withTransaction(deps.db, async (tx) => {
    const s = await locked(tx, cmd.submitterId);
    if (s.trusted === cmd.trusted) return false;
    s.trusted = cmd.trusted;
    await tx.getRepository(Submitter).save(s);
    await record(tx, {
      actor: cmd.actor,
      action: cmd.trusted ? 'submitter.trusted' : 'submitter.untrusted',
      subject: { type: 'submitter', id: s.id },
      details: { email: s.email, before: { trusted: !cmd.trusted }, after: { trusted: cmd.trusted } },
      context: cmd.context,
      at: deps.clock.now(),
    });
    return true;
  });
}

/** A warning (DSA Art. 23(1) asks for one before a suspension): emailed, audited. */
export async function warnSubmitter(deps: Deps, cmd: ByStaff & { dto: WarnDto }): Promise<void> {
  await withTransaction(deps.db, async (tx) => {
    const s = await locked(tx, cmd.submitterId);
    await enqueue(tx, 'submitter-warning', s.email, warningEmail(deps, s, cmd.dto.message));
    await record(tx, {
      actor: cmd.actor,
      action: 'submitter.warned',
      subject: { type: 'submitter', id: s.id },
      details: { email: s.email, message: cmd.dto.message },
      context: cmd.context,
      at: deps.clock.now(),
    });
  });
}

/** Suspends for `days` from now with a reason: every notice from them is refused until then. */
export async function suspendSubmitter(deps: Deps, cmd: ByStaff & { dto: SuspendDto }): Promise<Date> {
  return withTransaction(deps.db, async (tx) => {
    const s = await locked(tx, cmd.submitterId);
    const now = deps.clock.now();
    const until = new Date(now.getTime() + cmd.dto.days * 86_400_000);
    const before = { suspendedUntil: s.suspendedUntil?.toISOString() ?? null, reason: s.suspensionReason };
    s.suspendedUntil = until;
    s.suspensionReason = cmd.dto.reason;
    await tx.getRepository(Submitter).save(s);
    await enqueue(tx, 'submitter-suspended', s.email, suspensionEmail(deps, s, until, cmd.dto.reason));
    await record(tx, {
      actor: cmd.actor,
      action: 'submitter.suspended',
      subject: { type: 'submitter', id: s.id },
      details: { email: s.email, days: cmd.dto.days, before, after: { suspendedUntil: until.toISOString(), reason: cmd.dto.reason } },
      context: cmd.context,
      at: now,
    });
    return until;
  });
}

/** Ends a suspension before its time: their notices are taken again. 409 when none is in force. */
export async function liftSuspension(deps: Deps, cmd: ByStaff): Promise<void> {
  await withTransaction(deps.db, async (tx) => {
    const s = await locked(tx, cmd.submitterId);
    const now = deps.clock.now();
    if (!s.suspendedUntil || s.suspendedUntil.getTime() <= now.getTime()) {
      throw AppError.conflict('SUBMITTER.NOT_SUSPENDED', 'This submitter is not suspended.');
    }
    const before = { suspendedUntil: s.suspendedUntil.toISOString(), reason: s.suspensionReason };
    s.suspendedUntil = null;
    s.suspensionReason = null;
    await tx.getRepository(Submitter).save(s);
    await record(tx, {
      actor: cmd.actor,
      action: 'submitter.suspension_lifted',
      subject: { type: 'submitter', id: s.id },
      details: { email: s.email, before },
      context: cmd.context,
      at: now,
    });
  });
}
