/** Where a request came from; carried into every audit event it causes. */
export interface RequestContext {
  ip?: string | null;
  requestId?: string | null;
}
