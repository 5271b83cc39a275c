import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** The complainant's secret status token: 32 random bytes; only its SHA-256 is stored. */
export function newStatusToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashStatusToken(token) };
}

export function hashStatusToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Constant-time comparison of a presented token with the stored hash. */
export function tokenMatches(presented: unknown, storedHash: string): boolean {
  if (typeof presented !== 'string' || presented.length < 20 || presented.length > 100) return false;
  const a = Buffer.from(hashStatusToken(presented), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
