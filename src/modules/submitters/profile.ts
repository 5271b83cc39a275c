import { Transform } from 'class-transformer';
import { IsIn, IsISO31661Alpha2, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { record, RequestContext } from '../audit';
import { suspensionRefusal } from '../notices';
import { Submitter } from './submitter.entity';
import { submitterActor } from './submitter-actor';

const emptyToNull = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? (value.trim() === '' ? undefined : value.trim()) : value;

/** The portal profile form (and what pre-fills the portal's notice form). */
export class ProfileDto {
  @IsOptional()
  @Transform(emptyToNull)
  @IsString()
  @Length(1, 200, { message: 'Enter your full name (at most 200 characters).' })
  name?: string;

  @IsOptional()
  @Transform(emptyToNull)
  @IsString()
  @MaxLength(200, { message: 'Use at most 200 characters.' })
  organization?: string;

  @IsOptional()
  @Transform(emptyToNull)
  @IsIn(['owner', 'agent'], { message: 'Choose owner or agent.' })
  role?: 'owner' | 'agent';

  /** One rights owner per line. */
  @IsOptional()
  @IsString()
  @MaxLength(5000, { message: 'Use at most 5,000 characters.' })
  rightsOwners?: string;

  @IsOptional()
  @Transform(emptyToNull)
  @Matches(/^\+?[0-9 ().\-/]{5,40}$/, { message: 'Enter a phone number using digits, spaces, + ( ) - only.' })
  phone?: string;

  @IsOptional()
  @Transform(emptyToNull)
  @IsString()
  @Length(5, 1000, { message: 'Enter your full postal address (5 to 1,000 characters).' })
  address?: string;

  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.trim().toUpperCase() || undefined : value))
  @IsISO31661Alpha2({ message: 'Choose your country.' })
  country?: string;
}

const FIELDS = ['name', 'organization', 'role', 'rightsOwners', 'phone', 'address', 'country'] as const;

/** Saves the profile and audits what changed (before → after), in one transaction. */
export async function updateProfile(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  cmd: { submitterId: string; dto: ProfileDto; context: RequestContext },
): Promise<Submitter> {
  return withTransaction(deps.db, async (tx) => {
    const repo = tx.getRepository(Submitter);
    const s = await repo.findOne({ where: { id: cmd.submitterId }, lock: { mode: 'pessimistic_write' } });
    if (!s) throw AppError.notFound('Submitter');
    const next = {
      name: cmd.dto.name ?? null,
      organization: cmd.dto.organization ?? null,
      role: cmd.dto.role ?? null,
      rightsOwners: (cmd.dto.rightsOwners ?? '')
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean)
        .slice(0, 100),
      phone: cmd.dto.phone ?? null,
      address: cmd.dto.address ?? null,
      country: cmd.dto.country ?? null,
    };
    const before: Record<string, unknown> = {};
    const after: Record<string, unknown> = {};
    for (const f of FIELDS) {
      if (JSON.stringify(s[f]) !== JSON.stringify(next[f])) {
        before[f] = s[f];
        after[f] = next[f];
      }
    }
    if (!Object.keys(after).length) return s;
    Object.assign(s, next);
    await repo.save(s);
    await record(tx, {
      actor: submitterActor(s),
      action: 'submitter.profile_updated',
      subject: { type: 'submitter', id: s.id },
      details: { before, after },
      context: cmd.context,
      at: deps.clock.now(),
    });
    return s;
  });
}

/** The refusal a suspended submitter gets (DSA Art. 23): until when and why. Null when they may submit. */
export function suspension(s: Pick<Submitter, 'suspendedUntil' | 'suspensionReason'>, now: Date): AppError | null {
  return suspensionRefusal(s, now);
}
