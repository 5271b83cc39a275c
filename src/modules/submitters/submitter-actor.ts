import type { Actor } from '../audit';
import type { Submitter } from './submitter.entity';

/** How a submitter appears in the audit trail: a member of the public, labelled with their address. */
export function submitterActor(s: Pick<Submitter, 'email'>): Actor {
  return { type: 'public', label: `submitter:${s.email}` };
}
