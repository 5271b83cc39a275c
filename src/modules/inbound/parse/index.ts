/**
 * The pure half of the email channel (SPEC §12): raw message → InboundMessage → the fields of a notice
 * and what it lacks. No database, no network; the pipeline (`modules/inbound`) does the rest.
 */
export { readMessage } from './read-message';
export type { MessageSource, ReadMessageOptions } from './read-message';
export { findMessageUrls, forgetLastAnswers } from './urls';
export { parseNoticeEmail } from './parse-notice-email';
export { autoReplyReason } from './classify';
export type { ExtractedNotice, InboundMessage, MissingElement, ParseContext, StatementKey } from './types';
