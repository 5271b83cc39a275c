/** Counter-notices (§ 512(g)) and restoration: what other modules and server.ts may use. */
export { CounterNotice, COUNTER_NOTICE_STATUSES } from './counter-notice.entity';
export type { CounterNoticeStatus, CourtAction } from './counter-notice.entity';
export {
  CounterNoticeDto,
  MISTAKE_STATEMENT,
  CONSENT_STATEMENT_US,
  CONSENT_STATEMENT_ABROAD,
  consentStatementFor,
} from './counter-notice.dto';
export { submitCounterNotice, whyNotCounterable } from './submit-counter-notice';
export type { SubmitCounterNotice, CounterNoticeAnswer } from './submit-counter-notice';
export { restoreDueCounterNotices, recordCourtAction } from './restore-counter-noticed';
export type { RecordCourtAction } from './restore-counter-noticed';
