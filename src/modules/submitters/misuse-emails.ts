import type { AppDeps } from '../../deps';
import type { Submitter } from './submitter.entity';

/** The data of the emails an admin's trust and misuse actions send (templates `submitter-*`). */

export function warningEmail(deps: Pick<AppDeps, 'config'>, s: Submitter, message: string) {
  return {
    name: s.name ?? s.email,
    message,
    portalUrl: `${deps.config.publicBaseUrl}/portal`,
    policyUrl: `${deps.config.publicBaseUrl}/dmca`,
  };
}

export function suspensionEmail(deps: Pick<AppDeps, 'config'>, s: Submitter, until: Date, reason: string) {
  return {
    name: s.name ?? s.email,
    until: until.toISOString(),
    reason,
    policyUrl: `${deps.config.publicBaseUrl}/dmca`,
    contact: deps.config.dmcaAgent.email,
  };
}
