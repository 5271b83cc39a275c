import type { EntityManager } from 'typeorm';
import type { Queryable } from '../../db/leases';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { record, type RequestContext } from '../audit';
import { queueWhere, type QueueFilter } from './queue.queries';
import { auditActor, type ReviewDeps, type StaffActor } from './review-support';

/**
 * Saved views (SPEC §15): a moderator's named queue filters. Anyone on the staff opens one by its
 * link (`/queue?view=<id>`); only its owner changes it. One of a moderator's views may be their
 * default: `/queue` without a filter opens it (`/queue?all=1` shows every open notice).
 */
export interface SavedViewRow {
  id: string;
  name: string;
  filter: QueueFilter;
  isDefault: boolean;
  userId: string;
  owner: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const row = (r: { id: string; name: string; filter: QueueFilter; is_default: boolean; user_id: string; owner: string }): SavedViewRow => ({
  id: r.id,
  name: r.name,
  filter: r.filter,
  isDefault: r.is_default,
  userId: r.user_id,
  owner: r.owner,
});

export async function savedViewsOf(q: Queryable, userId: string): Promise<SavedViewRow[]> {
  const rows = await q.query(
    `SELECT v.id, v.name, v.filter, v.is_default, v.user_id, u.name AS owner FROM saved_views v JOIN users u ON u.id = v.user_id
      WHERE v.user_id = $1 ORDER BY v.is_default DESC, lower(v.name)`,
    [userId],
  );
  return rows.map(row);
}

/** A view by id, whoever owns it (views are shared by their link); null when there is none. */
export async function findSavedView(q: Queryable, id: string): Promise<SavedViewRow | null> {
  if (!UUID.test(id)) return null;
  const [r] = await q.query(
    `SELECT v.id, v.name, v.filter, v.is_default, v.user_id, u.name AS owner FROM saved_views v JOIN users u ON u.id = v.user_id WHERE v.id = $1`,
    [id],
  );
  return r ? row(r) : null;
}

export async function defaultViewOf(q: Queryable, userId: string): Promise<SavedViewRow | null> {
  const [r] = await q.query(
    `SELECT v.id, v.name, v.filter, v.is_default, v.user_id, u.name AS owner FROM saved_views v JOIN users u ON u.id = v.user_id
      WHERE v.user_id = $1 AND v.is_default`,
    [userId],
  );
  return r ? row(r) : null;
}

/** Saves the filter under a name (replacing the actor's view of that name), optionally as their default. */
export async function saveView(
  deps: ReviewDeps,
  cmd: { actor: StaffActor; name: string; filter: QueueFilter; makeDefault: boolean; context?: RequestContext },
): Promise<SavedViewRow> {
  const name = cmd.name.trim();
  if (!name || name.length > 80) throw AppError.validation([{ field: 'name', message: 'Name the view (at most 80 characters).' }]);
  queueWhere(cmd.filter, cmd.actor.id); // a filter the queue would refuse is refused here (422)
  return withTransaction(deps.db, async (tx) => {
    if (cmd.makeDefault) await clearDefault(tx, cmd.actor.id);
    const [saved] = await tx.query(
      `INSERT INTO saved_views (user_id, name, filter, is_default) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, name) DO UPDATE SET filter = EXCLUDED.filter, is_default = EXCLUDED.is_default OR saved_views.is_default
       RETURNING id, name, filter, is_default, user_id, $5::text AS owner`,
      [cmd.actor.id, name, JSON.stringify(cmd.filter), cmd.makeDefault, cmd.actor.name ?? cmd.actor.email],
    );
    await audit(tx, deps, cmd.actor, 'saved_view.saved', saved.id, { name, filter: cmd.filter, default: saved.is_default }, cmd.context);
    return row(saved);
  });
}

/** Makes one of the actor's views their default, or (`id` null) leaves them with none. */
export async function setDefaultView(deps: ReviewDeps, cmd: { actor: StaffActor; id: string | null; context?: RequestContext }) {
  return withTransaction(deps.db, async (tx) => {
    const view = cmd.id ? await ownView(tx, cmd.actor, cmd.id) : null;
    await clearDefault(tx, cmd.actor.id);
    if (view) await tx.query(`UPDATE saved_views SET is_default = true WHERE id = $1`, [view.id]);
    await audit(tx, deps, cmd.actor, 'saved_view.saved', view?.id ?? cmd.actor.id, { default: !!view, name: view?.name }, cmd.context);
  });
}

export async function deleteView(deps: ReviewDeps, cmd: { actor: StaffActor; id: string; context?: RequestContext }) {
  return withTransaction(deps.db, async (tx) => {
    const view = await ownView(tx, cmd.actor, cmd.id);
    await tx.query(`DELETE FROM saved_views WHERE id = $1`, [view.id]);
    await audit(tx, deps, cmd.actor, 'saved_view.deleted', view.id, { name: view.name }, cmd.context);
  });
}

async function ownView(tx: EntityManager, actor: StaffActor, id: string): Promise<SavedViewRow> {
  const view = await findSavedView(tx, id);
  if (!view) throw AppError.notFound('Saved view', 'VIEW.NOT_FOUND');
  const [mine] = await tx.query(`SELECT 1 FROM saved_views WHERE id = $1 AND user_id = $2 FOR UPDATE`, [id, actor.id]);
  if (!mine) throw AppError.forbidden(`The view "${view.name}" is ${view.owner}'s: save a copy of your own instead.`);
  return view;
}

const clearDefault = (tx: EntityManager, userId: string) =>
  tx.query(`UPDATE saved_views SET is_default = false WHERE user_id = $1 AND is_default`, [userId]);

const audit = (
  tx: EntityManager,
  deps: ReviewDeps,
  actor: StaffActor,
  action: 'saved_view.saved' | 'saved_view.deleted',
  id: string,
  details: Record<string, unknown>,
  context?: RequestContext,
) => record(tx, { actor: auditActor(actor), action, subject: { type: 'saved_view', id }, details, context, at: deps.clock.now() });
