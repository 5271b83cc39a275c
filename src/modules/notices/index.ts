export { Notice } from './notice.entity';
export type { TriageFlag, NoticeChannel } from './notice.entity';
export { NoticeTarget } from './notice-target.entity';
export type { TargetOutcome } from './notice-target.entity';
export * from './notice-state';
export { NoticeDto, CLAIM_TYPES, GOOD_FAITH_STATEMENT, ACCURACY_STATEMENT } from './notice.dto';
// Shared with the counter-notice form: the same URL-list and signature rules, the same country list.
export { IsUrlList, MatchesName, foldName, MAX_INFRINGING_URLS, urlListProblem } from './notice.dto';
export { COUNTRIES } from './countries';
export { submitNotice, purgeIdempotencyKeys } from './submit-notice';
export type { SubmitAnswer, StandingStatementsRef } from './submit-notice';
export { withdrawNotice, answerQuestion, verifyNoticeEmail, expireUnverifiedNotices } from './complainant-actions';
export { sendModeratorDigest } from './notify-moderators';
export { lockByReference, findByReference, targetsOf, keepPendingTargets } from './notices.queries';
export { OUTCOME_LABELS, complainantView, complainantJson } from './status-view';
export { noticePages, noticeFormView, formToNotice } from './notices.routes';
export { noticesPublicApi } from './notices.api';
export { rateLimit } from './intake-limiter';
