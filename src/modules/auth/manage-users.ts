import { EntityManager } from 'typeorm';
import { AppError } from '../../shared/errors';
import { Actor, record, RequestContext } from '../audit';
import { enqueue } from '../mail';
import { endSessionsOf } from './staff-sessions';
import { generatePassword, hashPassword, passwordProblem, verifyPassword } from './passwords';
import { Role, User } from './user.entity';
import { findByEmail, lockUser, normaliseEmail } from './users.queries';

interface Ctx {
  actor: Actor;
  context?: RequestContext;
  /** Now, from the caller's clock. */
  at: Date;
}

const snapshot = (u: User) => ({ email: u.email, name: u.name, role: u.role, active: u.active });

/**
 * Creates a staff account. Without a password one is generated, returned once, and must be
 * changed at first sign-in. The new member is emailed that the account exists (never the
 * password), unless `notify: false` (the first admin, whose password is printed on the console).
 */
export async function createUser(
  tx: EntityManager,
  cmd: Ctx & { email: string; name: string; role: Role; password?: string; notify?: boolean },
): Promise<{ user: User; generatedPassword?: string }> {
  const email = normaliseEmail(cmd.email);
  if (await findByEmail(tx, email)) {
    throw AppError.validation([{ field: 'email', message: 'A staff account with this email already exists.' }]);
  }
  const generated = cmd.password ? undefined : generatePassword();
  const password = cmd.password ?? generated!;
  const problem = passwordProblem(password);
  if (problem) throw AppError.validation([{ field: 'password', message: problem }]);
  const repo = tx.getRepository(User);
  const user = await repo.save(
    repo.create({
      email,
      name: cmd.name.trim(),
      role: cmd.role,
      passwordHash: await hashPassword(password),
      mustChangePassword: generated !== undefined,
    }),
  );
  await record(tx, {
    actor: cmd.actor,
    action: 'user.created',
    subject: { type: 'user', id: user.id },
    details: { after: snapshot(user) },
    context: cmd.context,
    at: cmd.at,
  });
  if (cmd.notify !== false) {
    await enqueue(
      tx,
      'staff-account-created',
      user.email,
      { name: user.name, email: user.email, role: user.role, createdBy: cmd.actor.type === 'user' ? cmd.actor.label : null },
      { dedupeKey: `staff-account-created:${user.id}` },
    );
  }
  return { user, generatedPassword: generated };
}

/** Admins are locked together so two admins cannot demote each other at the same moment. */
async function assertAnotherActiveAdmin(tx: EntityManager, user: User) {
  if (user.role !== 'admin' || !user.active) return;
  const admins: { id: string }[] = await tx.query(`SELECT id FROM users WHERE role = 'admin' AND active FOR UPDATE`);
  if (admins.filter((a) => a.id !== user.id).length === 0) {
    throw AppError.conflict('USER.LAST_ADMIN', 'This is the last active admin: make someone else an admin first.');
  }
}

export async function changeRole(tx: EntityManager, cmd: Ctx & { userId: string; role: Role }): Promise<User> {
  const user = await lockUser(tx, cmd.userId);
  if (user.role === cmd.role) return user;
  if (cmd.role !== 'admin') await assertAnotherActiveAdmin(tx, user);
  const before = snapshot(user);
  user.role = cmd.role;
  await tx.getRepository(User).update(user.id, { role: cmd.role });
  await record(tx, {
    actor: cmd.actor,
    action: 'user.role_changed',
    subject: { type: 'user', id: user.id },
    details: { before, after: snapshot(user) },
    context: cmd.context,
    at: cmd.at,
  });
  return user;
}

export async function setActive(tx: EntityManager, cmd: Ctx & { userId: string; active: boolean }): Promise<User> {
  const user = await lockUser(tx, cmd.userId);
  if (user.active === cmd.active) return user;
  if (!cmd.active) await assertAnotherActiveAdmin(tx, user);
  const before = snapshot(user);
  user.active = cmd.active;
  await tx.getRepository(User).update(user.id, { active: cmd.active });
  // A deactivated account's sessions end now, not when they expire.
  if (!cmd.active) await endSessionsOf(tx, user.id, 'deactivated');
  await record(tx, {
    actor: cmd.actor,
    action: cmd.active ? 'user.reactivated' : 'user.deactivated',
    subject: { type: 'user', id: user.id },
    details: { before, after: snapshot(user) },
    context: cmd.context,
    at: cmd.at,
  });
  return user;
}

export async function unlockUser(tx: EntityManager, cmd: Ctx & { userId: string }): Promise<User> {
  const user = await lockUser(tx, cmd.userId);
  await tx.getRepository(User).update(user.id, { lockedUntil: null, failedLogins: 0 });
  await record(tx, {
    actor: cmd.actor,
    action: 'user.unlocked',
    subject: { type: 'user', id: user.id },
    details: { email: user.email },
    context: cmd.context,
    at: cmd.at,
  });
  return user;
}

export async function changePassword(
  tx: EntityManager,
  cmd: Ctx & { userId: string; currentPassword: string; newPassword: string; keepSessionId?: string },
): Promise<void> {
  const user = await lockUser(tx, cmd.userId);
  if (!(await verifyPassword(user.passwordHash, cmd.currentPassword))) {
    throw AppError.validation([{ field: 'currentPassword', message: 'The current password is not right.' }]);
  }
  const problem = passwordProblem(cmd.newPassword);
  if (problem) throw AppError.validation([{ field: 'newPassword', message: problem }]);
  if (cmd.newPassword === cmd.currentPassword) {
    throw AppError.validation([{ field: 'newPassword', message: 'Choose a password different from the current one.' }]);
  }
  await tx.getRepository(User).update(user.id, { passwordHash: await hashPassword(cmd.newPassword), mustChangePassword: false });
  // Every other session ends: whoever knew the old password is signed out (SPEC §17).
  const sessionsEnded = await endSessionsOf(tx, user.id, 'password_changed', cmd.keepSessionId);
  await record(tx, {
    actor: cmd.actor,
    action: 'user.password_changed',
    subject: { type: 'user', id: user.id },
    details: { sessionsEnded },
    context: cmd.context,
    at: cmd.at,
  });
}
