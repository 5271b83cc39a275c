import request from 'supertest';
import type { Express } from 'express';
import { DataSource } from 'typeorm';
import { withTransaction } from '../../src/db/transaction';
import { createApiToken, createUser, Role, User } from '../../src/modules/auth';

export const PASSWORD = 'a-long-enough-test-password';

/** A staff account that can sign in at once (no forced password change). */
export async function createStaff(
  db: DataSource,
  opts: { role?: Role; email?: string; password?: string; name?: string } = {},
): Promise<User> {
  const role = opts.role ?? 'moderator';
  const email = opts.email ?? `${role}-${Math.random().toString(36).slice(2, 8)}@example.org`;
  const { user } = await withTransaction(db, (tx) =>
    createUser(tx, {
      at: new Date(),
      actor: { type: 'system' },
      email,
      name: opts.name ?? `Test ${role}`,
      role,
      password: opts.password ?? PASSWORD,
    }),
  );
  return user;
}

export async function tokenFor(db: DataSource, user: User): Promise<string> {
  const { token } = await withTransaction(db, (tx) =>
    createApiToken(tx, { at: new Date(), actor: { type: 'system' }, user, name: 'test' }),
  );
  return token;
}

/** The CSRF token of the first form on a page. */
export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token on the page');
  return m[1];
}

/** A cookie-keeping client, signed in through the real login form. */
export async function signedInAgent(app: Express, email: string, password = PASSWORD) {
  const agent = request.agent(app);
  const page = await agent.get('/login').expect(200);
  const res = await agent
    .post('/login')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), email, password, next: '/staff' });
  if (res.status !== 303) throw new Error(`sign-in failed with ${res.status}`);
  return agent;
}

/** GETs a page and returns its CSRF token, for a following POST with the same agent. */
export async function csrfOf(agent: ReturnType<typeof request.agent>, path = '/staff'): Promise<string> {
  const page = await agent.get(path).expect(200);
  return csrfFrom(page.text);
}
