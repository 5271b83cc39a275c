export { AuditEvent } from './audit-event.entity';
export { record, SYSTEM, PUBLIC } from './record';
export type { Actor, AuditInput, RequestContext } from './record';
export { sealAuditChain } from './seal-chain';
export { verifyAuditChain } from './verify-chain';
export type { VerifyResult } from './verify-chain';
export { auditPages, auditApi } from './audit.routes';
