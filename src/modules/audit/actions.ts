/**
 * Every action the audit trail records, `<subject>.<past tense>`. A new state change adds its name
 * here first; `record()` accepts nothing else, so a typo cannot split the history.
 */
export const AUDIT_ACTIONS = [
  'audit.exported',
  'batch.completed', 'batch.created', 'batch.failed',
  'counter_notice.received',
  'email.failed', 'email.retried', 'email.sent',
  'item.created', 'item.removed', 'item.restored', 'item.updated',
  'notice.answered', 'notice.approved', 'notice.claimed', 'notice.countered', 'notice.expired', 'notice.info_requested', 'notice.noted', 'notice.reassigned', 'notice.redacted', 'notice.rejected', 'notice.released', 'notice.restored', 'notice.spam', 'notice.submitted', 'notice.upheld', 'notice.verified', 'notice.withdrawn',
  'opt_out.confirmed', 'opt_out.requested',
  'source.activated', 'source.blocked', 'source.created', 'source.fetch_failed', 'source.fetched', 'source.items_imported', 'source.paused', 'source.renamed', 'source.struck', 'source.withdrawn',
  'submitter.created', 'submitter.profile_updated', 'submitter.sign_in_requested', 'submitter.signed_in', 'submitter.statements_made', 'submitter.statements_withdrawn', 'submitter.token_created', 'submitter.token_revoked',
  'token.created', 'token.revoked',
  'user.created', 'user.deactivated', 'user.locked', 'user.logged_in', 'user.logged_out', 'user.login_failed', 'user.login_refused', 'user.password_changed', 'user.reactivated', 'user.role_changed', 'user.unlocked',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];
