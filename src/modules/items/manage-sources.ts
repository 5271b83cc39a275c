import { EntityManager } from 'typeorm';
import { AppError } from '../../shared/errors';
import { normaliseDomain } from '../../shared/url';
import { Actor, AuditAction, record, RequestContext } from '../audit';

import { Source, SourceStatus } from './source.entity';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The source, locked for update, or a 404. An id that is not a uuid is unknown too: handed to
 * PostgreSQL it would be an "invalid input syntax for type uuid" error, a 500.
 */
export async function lockSource(tx: EntityManager, id: string): Promise<Source> {
  const source = UUID.test(id) ? await tx.getRepository(Source).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } }) : null;
  if (!source) throw AppError.notFound('Source', 'SOURCE.NOT_FOUND');
  return source;
}

export interface CreateSource {
  name: string;
  domains: string[];
  feedUrl?: string | null;
  contactEmail?: string | null;
  actor: Actor;
  context?: RequestContext;
  at: Date;
}

export async function createSource(tx: EntityManager, cmd: CreateSource): Promise<Source> {
  const domains = [...new Set(cmd.domains.map((d) => normaliseDomain(d)).filter((d): d is string => !!d))];
  if (!domains.length) throw AppError.validation([{ field: 'domains', message: 'List at least one homepage domain.' }]);
  const repo = tx.getRepository(Source);
  const source = await repo.save(
    repo.create({
      name: cmd.name.trim(),
      domains,
      feedUrl: cmd.feedUrl?.trim() || null,
      contactEmail: cmd.contactEmail?.trim().toLowerCase() || null,
      status: 'active',
      nextFetchAt: null,
    }),
  );
  await record(tx, {
    actor: cmd.actor,
    action: 'source.created',
    subject: { type: 'source', id: source.id },
    details: { name: source.name, domains, feedUrl: source.feedUrl, after: 'active' },
    context: cmd.context,
    at: cmd.at,
  });
  return source;
}

const ACTIONS: Record<'pause' | 'block' | 'activate', { to: SourceStatus; action: AuditAction }> = {
  pause: { to: 'paused', action: 'source.paused' },
  block: { to: 'blocked', action: 'source.blocked' },
  activate: { to: 'active', action: 'source.activated' },
};

/** Pause (no imports; strikes do this too), block (no imports, by an admin) or re-activate a source. */
export async function setSourceStatus(
  tx: EntityManager,
  cmd: { sourceId: string; change: keyof typeof ACTIONS; reason?: string; actor: Actor; context?: RequestContext; at: Date },
): Promise<Source> {
  const source = await lockSource(tx, cmd.sourceId);
  const { to, action } = ACTIONS[cmd.change];
  if (source.status === to) throw AppError.conflict('SOURCE.UNCHANGED', `${source.name} is already ${to}.`);
  const before = source.status;
  source.status = to;
  // Re-activated: import at the next scheduler run.
  if (to === 'active') source.nextFetchAt = null;
  await tx.getRepository(Source).save(source);
  await record(tx, {
    actor: cmd.actor,
    action,
    subject: { type: 'source', id: source.id },
    details: { name: source.name, before, after: to, reason: cmd.reason },
    context: cmd.context,
    at: cmd.at,
  });
  return source;
}

/** A rename changes the attribution footer of every item of the source: pages are re-rendered. */

/** Repeat infringement: the source's strike count in the last 12 months (counted by review). */
export async function setStrikeCount(
  tx: EntityManager,
  sourceId: string,
  strikes: number,
  at: Date,
): Promise<{ name: string; status: string } | null> {
  // An UPDATE … RETURNING answers [rows, count] through TypeORM.
  const [[source]]: [{ name: string; status: string }[], number] = await tx.query(
    `UPDATE sources SET strike_count = $2, updated_at = $3 WHERE id = $1 RETURNING name, status`,
    [sourceId, strikes, at],
  );
  return source ?? null;
}
