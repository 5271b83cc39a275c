/** Email as a channel (SPEC §12): the designated agent's mailbox becomes notices. */
export { InboundEmail, INBOUND_STATUSES, WAYS_IN } from './inbound-email.entity';
export type { InboundStatus, WayIn, SenderAuth, InboundEnvelope } from './inbound-email.entity';
export { storeInboundEmail } from './store-inbound-email';
export type { StoredEmail } from './store-inbound-email';
export { createInboundWorker } from './inbound-worker';
export type { InboundWorker, InboundWorkerOptions, InboundResult } from './inbound-worker';
export { authenticateSender, isUnauthenticated } from './sender-auth';
export type { DnsResolver } from './sender-auth';
export { listInbound, findInbound } from './inbound.queries';
export { registerInboundMetrics } from './inbound-metrics';
export { startSmtpReceiver } from './smtp-receiver';
export type { SmtpReceiver } from './smtp-receiver';
export { startImapPoller, parseImapUrl } from './imap-poller';
export type { ImapPoller } from './imap-poller';
