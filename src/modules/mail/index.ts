/** The mail module's only export surface: the outbox (SPEC §8). */
export { OutboundEmail, EMAIL_STATUSES } from './outbound-email.entity';
export type { EmailThread } from './outbound-email.entity';
export type { EmailStatus } from './outbound-email.entity';
export { enqueue, enqueueMany, emailsPart, isDeliverableAddress, automaticRepliesSince } from './enqueue';
export type { EnqueueOptions, QueuedEmail } from './enqueue';
export { createMailWorker, retryDelayMs } from './mail-worker';
export type { MailWorker, MailWorkerDeps, MailWorkerOptions, DrainResult } from './mail-worker';
export { createEmailRenderer, listTemplates, isTemplateName, emailTemplatesDir } from './render';
export type { EmailRenderer, RenderedEmail, RendererOptions } from './render';
export { createMailTransport, messageIdFor, LOCAL_STORE } from './transport';
export type { MailTransport, OutgoingEmail, DeliveryReceipt } from './transport';
export { retryEmail, retryFailedEmails } from './retry-email';
export { registerMailMetrics } from './mail-metrics';
export { redactSentEmails, REDACTED_EMAIL } from './redact-emails';
