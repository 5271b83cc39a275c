import { createHash, randomBytes } from 'node:crypto';
import { EntityManager, IsNull } from 'typeorm';
import { Actor, record, RequestContext } from '../audit';
import { ApiToken } from './api-token.entity';
import { User } from './user.entity';

const PREFIX = 'tdk_';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Creates a token for a user; the clear token is returned once and never stored. */
export async function createApiToken(
  tx: EntityManager,
  cmd: { user: User; name: string; actor: Actor; context?: RequestContext; at: Date },
): Promise<{ token: string; apiToken: ApiToken }> {
  const token = PREFIX + randomBytes(32).toString('base64url');
  const apiToken = await tx.getRepository(ApiToken).save(
    tx.getRepository(ApiToken).create({
      userId: cmd.user.id,
      name: cmd.name.slice(0, 100),
      prefix: token.slice(0, 10),
      tokenHash: hashToken(token),
    }),
  );
  await record(tx, {
    actor: cmd.actor,
    action: 'token.created',
    subject: { type: 'user', id: cmd.user.id },
    details: { tokenId: apiToken.id, name: apiToken.name, prefix: apiToken.prefix, user: cmd.user.email },
    context: cmd.context,
    at: cmd.at,
  });
  return { token, apiToken };
}

/** The active user behind a bearer token, or null. Tokens are high-entropy, so SHA-256 lookup is safe. */
export async function userForToken(tx: EntityManager, token: string): Promise<User | null> {
  if (!token.startsWith(PREFIX) || token.length > 100) return null;
  const row = await tx
    .getRepository(ApiToken)
    .createQueryBuilder('t')
    .innerJoinAndSelect('t.user', 'u')
    .where('t.token_hash = :h AND t.revoked_at IS NULL AND u.active', { h: hashToken(token) })
    .getOne();
  if (!row?.user) return null;
  // Touch at most once a minute, so a busy API client does not write on every call.
  await tx.query(
    `UPDATE api_tokens SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
    [row.id],
  );
  return row.user;
}

export async function revokeApiTokens(
  tx: EntityManager,
  cmd: { user: User; actor: Actor; context?: RequestContext; tokenId?: string; at: Date },
): Promise<number> {
  const where = cmd.tokenId ? { userId: cmd.user.id, id: cmd.tokenId, revokedAt: IsNull() } : { userId: cmd.user.id, revokedAt: IsNull() };
  const tokens = await tx.getRepository(ApiToken).findBy(where);
  if (!tokens.length) return 0;
  await tx.getRepository(ApiToken).update(
    tokens.map((t) => t.id),
    { revokedAt: cmd.at },
  );
  await record(tx, {
    actor: cmd.actor,
    action: 'token.revoked',
    subject: { type: 'user', id: cmd.user.id },
    details: { user: cmd.user.email, tokens: tokens.map((t) => ({ id: t.id, name: t.name, prefix: t.prefix })) },
    context: cmd.context,
    at: cmd.at,
  });
  return tokens.length;
}

export function listApiTokens(tx: EntityManager, userId: string): Promise<ApiToken[]> {
  return tx.getRepository(ApiToken).find({ where: { userId }, order: { createdAt: 'DESC' } });
}
