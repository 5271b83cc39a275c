import { Transform } from 'class-transformer';
import { Equals, IsString, Length } from 'class-validator';
import { EntityManager } from 'typeorm';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { record, RequestContext } from '../audit';
import { ACCURACY_STATEMENT, GOOD_FAITH_STATEMENT } from '../notices';
import { StandingStatements } from './standing-statements.entity';
import { Submitter } from './submitter.entity';
import { submitterActor } from './submitter-actor';

const yes = ({ value }: { value: unknown }) => (value === true || value === 'true' || value === 'on' ? true : value);

export class StandingStatementsDto {
  @Transform(yes)
  @Equals(true, { message: 'Make the good-faith statement to keep it on file.' })
  goodFaith: boolean;

  @Transform(yes)
  @Equals(true, { message: 'Make the statement of accuracy, under penalty of perjury, to keep it on file.' })
  accuracy: boolean;

  @Transform(({ value }) => (typeof value === 'string' ? value.trim() : value))
  @IsString({ message: 'Type your full name as your signature.' })
  @Length(1, 200, { message: 'Type your full name as your signature (at most 200 characters).' })
  signature: string;
}

/** The statements in force for a submitter (the newest version, not withdrawn), or null. */
export async function currentStatements(tx: EntityManager, submitterId: string): Promise<StandingStatements | null> {
  const latest = await tx.getRepository(StandingStatements).findOne({ where: { submitterId }, order: { version: 'DESC' } });
  return latest && !latest.withdrawnAt ? latest : null;
}

/** Every version, newest first (the profile page shows the history). */
export function statementHistory(tx: EntityManager, submitterId: string): Promise<StandingStatements[]> {
  return tx.getRepository(StandingStatements).find({ where: { submitterId }, order: { version: 'DESC' } });
}

/**
 * Makes (or makes again) the standing statements: a new version, dated now, audited, in one
 * transaction. The submitter row is locked so two saves cannot take the same version number.
 */
export async function makeStatements(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  cmd: { submitterId: string; dto: StandingStatementsDto; context: RequestContext },
): Promise<StandingStatements> {
  return withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const s = await tx.getRepository(Submitter).findOneOrFail({ where: { id: cmd.submitterId }, lock: { mode: 'pessimistic_write' } });
    const [{ v }] = await tx.query(`SELECT coalesce(max(version), 0) + 1 AS v FROM standing_statements WHERE submitter_id = $1`, [s.id]);
    const repo = tx.getRepository(StandingStatements);
    const made = await repo.save(
      repo.create({
        submitterId: s.id,
        version: v,
        goodFaithStatement: GOOD_FAITH_STATEMENT,
        accuracyStatement: ACCURACY_STATEMENT,
        signature: cmd.dto.signature,
        madeAt: now,
        withdrawnAt: null,
      }),
    );
    await record(tx, {
      actor: submitterActor(s),
      action: 'submitter.statements_made',
      subject: { type: 'submitter', id: s.id },
      details: { version: made.version, signature: made.signature, madeAt: now.toISOString() },
      context: cmd.context,
      at: now,
    });
    return made;
  });
}

/** Withdraws the statements in force (audited); later notices must carry their own again. */
export async function withdrawStatements(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  cmd: { submitterId: string; context: RequestContext },
): Promise<boolean> {
  return withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const s = await tx.getRepository(Submitter).findOneOrFail({ where: { id: cmd.submitterId }, lock: { mode: 'pessimistic_write' } });
    const current = await currentStatements(tx, s.id);
    if (!current) return false;
    current.withdrawnAt = now;
    await tx.getRepository(StandingStatements).save(current);
    await record(tx, {
      actor: submitterActor(s),
      action: 'submitter.statements_withdrawn',
      subject: { type: 'submitter', id: s.id },
      details: { version: current.version, madeAt: current.madeAt.toISOString() },
      context: cmd.context,
      at: now,
    });
    return true;
  });
}
