import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The affected source's signed link to the complaint form (in the `content-removed` email): an HMAC
 * of the notice and the source under a key derived from SESSION_SECRET. Nothing is stored; a link
 * for one source and notice opens nothing else.
 */
function signature(secret: string, reference: string, sourceId: string): string {
  return createHmac('sha256', `complaint-link:${secret}`).update(`${reference.toUpperCase()}:${sourceId}`).digest('base64url');
}

export function sourceComplaintUrl(baseUrl: string, secret: string, reference: string, sourceId: string): string {
  return `${baseUrl}/complaints/source/${reference}?source=${sourceId}&sig=${signature(secret, reference, sourceId)}`;
}

export function sourceLinkValid(secret: string, reference: string, sourceId: unknown, sig: unknown): boolean {
  if (typeof sourceId !== 'string' || typeof sig !== 'string' || !/^[0-9a-f-]{36}$/i.test(sourceId) || sig.length > 100) return false;
  const a = Buffer.from(signature(secret, reference, sourceId));
  const b = Buffer.from(sig);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Six calendar months after the decision (DSA Art. 20(1)). */
export function complaintDeadline(decidedAt: Date): Date {
  const d = new Date(decidedAt.getTime());
  d.setUTCMonth(d.getUTCMonth() + 6);
  return d;
}
