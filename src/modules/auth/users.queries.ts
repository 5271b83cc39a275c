import { EntityManager } from 'typeorm';
import { AppError } from '../../shared/errors';
import { User } from './user.entity';

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function findByEmail(tx: EntityManager, email: string, withHash = false): Promise<User | null> {
  const q = tx
    .getRepository(User)
    .createQueryBuilder('u')
    .where('u.email = :email', { email: normaliseEmail(email) });
  if (withHash) q.addSelect('u.passwordHash');
  return q.getOne();
}

/** Locks the user row for the rest of the transaction. */
export async function lockUser(tx: EntityManager, id: string): Promise<User> {
  const user = await tx
    .getRepository(User)
    .createQueryBuilder('u')
    .addSelect('u.passwordHash')
    .where('u.id = :id', { id })
    .setLock('pessimistic_write')
    .getOne();
  if (!user) throw AppError.notFound('User', 'USER.NOT_FOUND');
  return user;
}

export function listUsers(tx: EntityManager): Promise<User[]> {
  return tx.getRepository(User).find({ order: { active: 'DESC', role: 'ASC', email: 'ASC' } });
}

/** Who hears about the desk's events: every active staff member, or only the admins. */
export async function staffEmails(tx: EntityManager, role?: 'admin'): Promise<string[]> {
  const rows: { email: string }[] = await tx.query(
    `SELECT email FROM users WHERE active ${role ? `AND role = 'admin'` : ''} ORDER BY email`,
  );
  return rows.map((r) => r.email);
}
