import { withTransaction } from '../../db/transaction';
import { record } from '../audit';
import type { Notice } from '../notices';
import { auditActor, requireText, ReviewCmd, ReviewDeps, saveNotice } from './review-support';
import { lockByReference } from '../notices';

/** An internal note for staff (never shown to the complainant). Any status, any staff member. */
export async function addNote(deps: ReviewDeps, cmd: ReviewCmd & { text: string }): Promise<Notice> {
  const text = requireText('text', cmd.text, 'the note', 10_000);
  return withTransaction(deps.db, async (tx) => {
    const notice = await lockByReference(tx, cmd.reference);
    const now = deps.clock.now();
    notice.internalNotes = [...(notice.internalNotes ?? []), { at: now.toISOString(), by: cmd.actor.email, text }];
    await saveNotice(tx, notice);
    await record(tx, {
      actor: auditActor(cmd.actor),
      action: 'notice.noted',
      subject: { type: 'notice', id: notice.reference },
      details: { text },
      context: cmd.context,
      at: now,
    });
    return notice;
  });
}
