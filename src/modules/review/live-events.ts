import type { EntityManager } from 'typeorm';
import type { Notice } from '../notices';

/**
 * The channel of the live stream (SPEC §15). Every review use case that changes a notice (claim,
 * release, assign, a decision, a note) calls `announceNoticeChange` inside its own transaction:
 * PostgreSQL delivers the NOTIFY at commit, to every instance's one LISTEN connection, and never
 * for a rolled-back change. The live module (`src/modules/live`) fans it out to the browsers.
 */
export const LIVE_CHANNEL = 'td_live';

/** What a notice change says on the channel (a few ids, far below NOTIFY's 8,000-byte limit). */
export interface NoticeChangeMessage {
  k: 'notice';
  ref: string;
  status: string;
  assigneeId: string | null;
  version: number;
}

export async function announceNoticeChange(tx: EntityManager, notice: Notice): Promise<void> {
  const msg: NoticeChangeMessage = {
    k: 'notice',
    ref: notice.reference,
    status: notice.status,
    assigneeId: notice.assigneeId ?? null,
    version: notice.version,
  };
  await tx.query('SELECT pg_notify($1, $2)', [LIVE_CHANNEL, JSON.stringify(msg)]);
}
