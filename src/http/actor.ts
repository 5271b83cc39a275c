import type { Request } from 'express';
import type { Actor } from '../modules/audit';
import type { StaffActor } from '../modules/review';
import { AppError } from '../shared/errors';

/** The signed-in staff member as the audit trail names them. Only after a staff guard (`requireStaff`/`requireBearer`). */
export function actorFrom(req: Request): Actor {
  const u = signedIn(req);
  return { type: 'user', id: u.id, label: u.email, role: u.role };
}

/** The signed-in staff member as the review use cases take them (they check the holder and the role). */
export function staffActorFrom(req: Request): StaffActor {
  const u = signedIn(req);
  return { id: u.id, email: u.email, name: u.name, role: u.role as StaffActor['role'] };
}

function signedIn(req: Request) {
  if (!req.user) throw AppError.unauthenticated();
  return req.user;
}
