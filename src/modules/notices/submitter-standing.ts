import { AppError } from '../../shared/errors';

/**
 * What the intake needs to know about the sender when they are a portal submitter (SPEC §14, DSA
 * Arts. 22/23): trusted (their notices lead the queue) or suspended (their notices are refused).
 * Read in the intake's one statement (`intakeFacts`) by the notice's address, on every channel.
 */
export interface SubmitterStanding {
  trusted: boolean;
  suspendedUntil: Date | null;
  suspensionReason: string | null;
}

/** The refusal a suspended submitter gets (DSA Art. 23): until when and why. Null when they may submit. */
export function suspensionRefusal(s: Pick<SubmitterStanding, 'suspendedUntil' | 'suspensionReason'>, now: Date): AppError | null {
  if (!s.suspendedUntil || s.suspendedUntil.getTime() <= now.getTime()) return null;
  const until = s.suspendedUntil.toISOString();
  return new AppError('SUBMITTER.SUSPENDED', `Your notices are refused until ${until} because: ${s.suspensionReason}`, 403, {
    suspendedUntil: until,
    reason: s.suspensionReason,
  });
}
