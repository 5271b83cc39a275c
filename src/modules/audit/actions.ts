/**
 * Every action the audit trail records, `<subject>.<past tense>`. A new state change adds its name
 * here first; `record()` accepts nothing else, so a typo cannot split the history.
 */
export const AUDIT_ACTIONS = [
  'audit.exported',
  'batch.completed', 'batch.created', 'batch.failed',
  'cache.purge_failed', 'cache.purged',
  'complaint.decision_refused', 'complaint.refused', 'complaint.reversed', 'complaint.submitted', 'complaint.upheld',
  'counter_notice.received',
  'email.failed', 'email.retried', 'email.sent',
  'inbound_email.attached', 'inbound_email.failed', 'inbound_email.ignored', 'inbound_email.read', 'inbound_email.received',
  'item.created', 'item.held', 'item.hold_confirmed', 'item.released', 'item.removed', 'item.restored', 'item.updated',
  'notice.answered', 'notice.approved', 'notice.claimed', 'notice.completed', 'notice.countered', 'notice.expired', 'notice.incomplete', 'notice.info_requested', 'notice.noted', 'notice.reassigned', 'notice.redacted', 'notice.rejected', 'notice.released', 'notice.reopened', 'notice.reply_received', 'notice.restored', 'notice.reversed', 'notice.spam', 'notice.submitted', 'notice.upheld', 'notice.verified', 'notice.withdrawn',
  'opt_out.confirmed', 'opt_out.requested',
  'session.revoked',
  'source.activated', 'source.blocked', 'source.created', 'source.fetch_failed', 'source.fetched', 'source.items_imported', 'source.paused', 'source.renamed', 'source.struck', 'source.withdrawn',
  'staydown.backfilled',
  'submitter.created', 'submitter.profile_updated', 'submitter.sign_in_requested', 'submitter.signed_in', 'submitter.statements_made', 'submitter.statements_withdrawn', 'submitter.token_created', 'submitter.token_revoked',
  'token.created', 'token.revoked',
  'user.created', 'user.deactivated', 'user.locked', 'user.logged_in', 'user.logged_out', 'user.login_failed', 'user.login_refused', 'user.password_changed', 'user.reactivated', 'user.role_changed', 'user.unlocked',
  'user.2fa_enabled', 'user.2fa_failed', 'user.2fa_reset', 'user.password_accepted', 'user.reauthenticated', 'user.reauthentication_failed',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];
