import { EntityManager } from 'typeorm';
import { EMAIL_STATUSES, EmailStatus, OutboundEmail } from './outbound-email.entity';

export const PAGE_SIZE = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isEmailId = (s: unknown): s is string => typeof s === 'string' && UUID.test(s);
export const isEmailStatus = (s: unknown): s is EmailStatus => typeof s === 'string' && (EMAIL_STATUSES as readonly string[]).includes(s);

/** Keyset cursor: the (created_at, id) of the last row shown, opaque to the page. */
export function encodeCursor(e: Pick<OutboundEmail, 'createdAt' | 'id'>): string {
  return Buffer.from(`${e.createdAt.toISOString()}|${e.id}`).toString('base64url');
}

function decodeCursor(c: unknown): { createdAt: Date; id: string } | undefined {
  if (typeof c !== 'string' || c.length > 200) return undefined;
  const [at, id] = Buffer.from(c, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at);
  return isEmailId(id) && !Number.isNaN(createdAt.getTime()) ? { createdAt, id } : undefined;
}

/** Newest first, optionally one status; keyset pagination (no OFFSET). */
export async function listEmails(
  m: EntityManager,
  filter: { status?: EmailStatus; cursor?: string; noticeId?: string },
): Promise<{ emails: OutboundEmail[]; nextCursor?: string }> {
  const qb = m.getRepository(OutboundEmail).createQueryBuilder('e');
  if (filter.status) qb.andWhere('e.status = :status', { status: filter.status });
  if (filter.noticeId) qb.andWhere('e.notice_id = :noticeId', { noticeId: filter.noticeId });
  const after = decodeCursor(filter.cursor);
  if (after) qb.andWhere('(e.created_at, e.id) < (:at, :id)', { at: after.createdAt, id: after.id });
  const rows = await qb
    .orderBy('e.created_at', 'DESC')
    .addOrderBy('e.id', 'DESC')
    .limit(PAGE_SIZE + 1)
    .getMany();
  const more = rows.length > PAGE_SIZE;
  const emails = more ? rows.slice(0, PAGE_SIZE) : rows;
  return { emails, nextCursor: more ? encodeCursor(emails[emails.length - 1]) : undefined };
}

export async function countByStatus(m: EntityManager): Promise<Record<EmailStatus, number>> {
  const rows: { status: EmailStatus; n: number }[] = await m.query(
    'SELECT status, count(*)::int AS n FROM outbound_emails GROUP BY status',
  );
  const out = { queued: 0, sent: 0, failed: 0 } as Record<EmailStatus, number>;
  for (const r of rows) out[r.status] = r.n;
  return out;
}

/** Seconds since the oldest queued email was written (0 when none is waiting). */
export async function oldestQueuedAgeSeconds(m: EntityManager): Promise<number> {
  const [row]: { age: number | null }[] = await m.query(
    `SELECT extract(epoch FROM now() - min(created_at))::float8 AS age FROM outbound_emails WHERE status = 'queued'`,
  );
  return Math.max(0, row?.age ?? 0);
}

export async function findEmail(m: EntityManager, id: string): Promise<OutboundEmail | null> {
  if (!isEmailId(id)) return null;
  return m.getRepository(OutboundEmail).findOneBy({ id });
}
