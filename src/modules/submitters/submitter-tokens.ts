import { randomBytes } from 'node:crypto';
import { EntityManager, IsNull } from 'typeorm';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { record, RequestContext } from '../audit';
import { hashToken } from './sign-in';
import { Submitter } from './submitter.entity';
import { SubmitterApiToken } from './submitter-token.entity';
import { submitterActor } from './submitter-actor';

/** Submitter tokens start with `tds_` (staff tokens with `tdk_`), so the API tells them apart before any lookup. */
export const SUBMITTER_TOKEN_PREFIX = 'tds_';
export const MAX_TOKENS = 20;

export const isSubmitterToken = (token: string) => token.startsWith(SUBMITTER_TOKEN_PREFIX);

/** Creates a token; the clear token is returned once and never stored. Audited. */
export async function createSubmitterToken(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  cmd: { submitterId: string; name: string; context: RequestContext },
): Promise<{ token: string; row: SubmitterApiToken }> {
  return withTransaction(deps.db, async (tx) => {
    const s = await tx.getRepository(Submitter).findOneOrFail({ where: { id: cmd.submitterId }, lock: { mode: 'pessimistic_write' } });
    const repo = tx.getRepository(SubmitterApiToken);
    if ((await repo.countBy({ submitterId: s.id, revokedAt: IsNull() })) >= MAX_TOKENS) {
      throw AppError.validation([{ field: 'name', message: `You have ${MAX_TOKENS} tokens already: revoke one first.` }]);
    }
    const token = SUBMITTER_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const row = await repo.save(
      repo.create({
        submitterId: s.id,
        name: cmd.name.trim().slice(0, 100) || 'API token',
        prefix: token.slice(0, 10),
        tokenHash: hashToken(token),
        lastUsedAt: null,
        revokedAt: null,
      }),
    );
    await record(tx, {
      actor: submitterActor(s),
      action: 'submitter.token_created',
      subject: { type: 'submitter', id: s.id },
      details: { tokenId: row.id, name: row.name, prefix: row.prefix },
      context: cmd.context,
      at: deps.clock.now(),
    });
    return { token, row };
  });
}

/** Revokes one of the submitter's own tokens (another's is as unknown as none). Audited. */
export async function revokeSubmitterToken(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  cmd: { submitterId: string; tokenId: string; context: RequestContext },
): Promise<void> {
  await withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const s = await tx.getRepository(Submitter).findOneByOrFail({ id: cmd.submitterId });
    const valid = /^[0-9a-f-]{36}$/i.test(cmd.tokenId);
    const row = valid
      ? await tx.getRepository(SubmitterApiToken).findOneBy({ id: cmd.tokenId, submitterId: s.id, revokedAt: IsNull() })
      : null;
    if (!row) throw AppError.notFound('Token');
    row.revokedAt = now;
    await tx.getRepository(SubmitterApiToken).save(row);
    await record(tx, {
      actor: submitterActor(s),
      action: 'submitter.token_revoked',
      subject: { type: 'submitter', id: s.id },
      details: { tokenId: row.id, name: row.name, prefix: row.prefix },
      context: cmd.context,
      at: now,
    });
  });
}

export function tokensOf(tx: EntityManager, submitterId: string): Promise<SubmitterApiToken[]> {
  return tx.getRepository(SubmitterApiToken).find({ where: { submitterId }, order: { createdAt: 'DESC' } });
}

/** The submitter behind a live token, or null. High-entropy tokens: a SHA-256 lookup is safe. */
export async function submitterForToken(tx: EntityManager, token: string, now: Date): Promise<Submitter | null> {
  if (!isSubmitterToken(token) || token.length > 100) return null;
  // TypeORM answers an UPDATE … RETURNING with [rows, affected].
  const [rows]: [{ id: string }[], number] = await tx.query(
    `UPDATE submitter_api_tokens SET last_used_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL RETURNING submitter_id AS id`,
    [hashToken(token), now],
  );
  return rows.length ? tx.getRepository(Submitter).findOneBy({ id: rows[0].id }) : null;
}
