export { Notice } from './notice.entity';
export type { TriageFlag, NoticeChannel, NoticeSourceType } from './notice.entity';
export { suspensionRefusal } from './submitter-standing';
export type { SubmitterStanding } from './submitter-standing';
export { NoticeTarget } from './notice-target.entity';
export type { TargetOutcome } from './notice-target.entity';
export * from './notice-state';
export { NoticeDto, CLAIM_TYPES, GOOD_FAITH_STATEMENT, ACCURACY_STATEMENT } from './notice.dto';
// Shared with the counter-notice form: the same URL-list and signature rules, the same country list.
export { IsUrlList, MatchesName, foldName, MAX_INFRINGING_URLS, urlListProblem } from './notice.dto';
export { COUNTRIES } from './countries';
export { submitNotice, prepareNotice, commitNotice, purgeIdempotencyKeys } from './submit-notice';
export type { SubmitAnswer, StandingStatementsRef, SubmitNotice, PreparedNotice } from './submit-notice';
export { withdrawNotice, answerQuestion, verifyNoticeEmail, expireUnverifiedNotices, applyAnswer } from './complainant-actions';
// The shared intake (form, API, email) and the emailed-notice story (SPEC §12).
export { prepareIntake, insertPreparedNotice, intakeEmails } from './intake';
export type { IntakeInput, PreparedIntake } from './intake';
export { takeEmailedNotice } from './email-notices';
export type { EmailedNotice, MissingElement } from './email-notices';
export { completeNotice, completionValues, attachEmailReply, expireIncompleteNotices } from './complete-notice';
export { sendModeratorDigest } from './notify-moderators';
export {
  lockByReference,
  findByReference,
  targetsOf,
  keepPendingTargets,
  markTargetsRemoved,
  markTargetsRestored,
  outcomesOf,
  pickTargets,
  lockDueNotices,
  imageTargetsOf,
} from './notices.queries';
export type { ImageTargetView } from './notices.queries';
export { closeNotice } from './close-notice';
export type { CloseNotice } from './close-notice';
export { statementOfReasons, legalBasisOf, claimantOf } from './statement-of-reasons';
export type { StatementInput } from './statement-of-reasons';
export { OUTCOME_LABELS, complainantView, complainantJson } from './status-view';
// The notice form's view and field shaping, shared with the portal's notice form.
export { noticeFormView, formToNotice } from './notice-form';
export { rateLimit } from './intake-limiter';
export { reopenNotice, reverseRemoval } from './reverse-decision';
export { findForComplainant } from './notices.queries';
export { redactExpiredPersonalData, REDACTED, REDACTED_EMAIL, RETAINED_STATUSES } from './redact-personal-data';
