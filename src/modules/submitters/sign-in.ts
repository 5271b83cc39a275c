import { createHash, randomBytes } from 'node:crypto';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { record, RequestContext } from '../audit';
import { enqueue } from '../mail';
import { SubmitterSignInLink } from './sign-in-link.entity';
import { Submitter } from './submitter.entity';
import { submitterActor } from './submitter-actor';

export type SignInDeps = Pick<AppDeps, 'db' | 'clock' | 'config'>;

export const LINK_MINUTES = 15;

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Step 1 of the portal sign-in: an address asks for a link. Every well-formed address gets the
 * same answer and the same work (a link row, an audit event, an email), whether or not it has
 * signed in or sent a notice before: the answer tells nobody which addresses we know. The address
 * becomes a submitter only when the link is used (that proves it).
 */
export async function requestSignInLink(deps: SignInDeps, cmd: { email: string; context: RequestContext }): Promise<void> {
  const email = cmd.email.trim().toLowerCase();
  const token = randomBytes(32).toString('base64url');
  await withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const repo = tx.getRepository(SubmitterSignInLink);
    const link = await repo.save(
      repo.create({
        email,
        tokenHash: hashToken(token),
        requestedAt: now,
        expiresAt: new Date(now.getTime() + LINK_MINUTES * 60_000),
        usedAt: null,
        requesterIp: cmd.context.ip ?? null,
      }),
    );
    await record(tx, {
      actor: { type: 'public', label: email },
      action: 'submitter.sign_in_requested',
      subject: { type: 'submitter_link', id: link.id },
      details: { email },
      context: cmd.context,
      at: now,
    });
    await enqueue(
      tx,
      'portal-sign-in',
      email,
      {
        signInUrl: `${deps.config.publicBaseUrl}/portal/login/link?token=${token}`,
        expiresAt: link.expiresAt.toISOString(),
        minutes: LINK_MINUTES,
      },
      { dedupeKey: `portal-sign-in:${link.id}` },
    );
  });
}

/** Why a sign-in link does not work, in words for its page. */
export function linkProblem(code: string): string {
  return code === 'PORTAL.LINK_USED'
    ? 'This sign-in link was already used. Each link works once: ask for a new one.'
    : code === 'PORTAL.LINK_EXPIRED'
      ? `This sign-in link has expired (links work for ${LINK_MINUTES} minutes). Ask for a new one.`
      : 'This sign-in link is not valid. Copy the whole link from the email, or ask for a new one.';
}

/** Checks a link without using it (its page shows a button; mail scanners open links too). */
export async function checkSignInLink(deps: SignInDeps, token: unknown): Promise<void> {
  await findLink(deps, token, false);
}

async function findLink(deps: SignInDeps, token: unknown, lock: boolean, tx = deps.db.manager): Promise<SubmitterSignInLink> {
  const valid = typeof token === 'string' && /^[\w-]{20,100}$/.test(token);
  const link = valid
    ? await tx
        .getRepository(SubmitterSignInLink)
        .findOne({ where: { tokenHash: hashToken(token) }, ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}) })
    : null;
  if (!link) throw new AppError('PORTAL.LINK_INVALID', linkProblem('PORTAL.LINK_INVALID'), 404);
  if (link.usedAt) throw new AppError('PORTAL.LINK_USED', linkProblem('PORTAL.LINK_USED'), 410);
  if (link.expiresAt.getTime() <= deps.clock.now().getTime())
    throw new AppError('PORTAL.LINK_EXPIRED', linkProblem('PORTAL.LINK_EXPIRED'), 410);
  return link;
}

/**
 * Step 2: the link is used (once). In one transaction: the link is spent, the submitter is created
 * at its first sign-in (its address now verified), and the sign-in is audited.
 */
export async function useSignInLink(deps: SignInDeps, cmd: { token: unknown; context: RequestContext }): Promise<Submitter> {
  return withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const link = await findLink(deps, cmd.token, true, tx);
    link.usedAt = now;
    await tx.getRepository(SubmitterSignInLink).save(link);
    const repo = tx.getRepository(Submitter);
    await tx.query(`INSERT INTO submitters (email, email_verified_at) VALUES ($1, $2) ON CONFLICT (email) DO NOTHING`, [link.email, now]);
    const submitter = await repo.findOneByOrFail({ email: link.email });
    const created = submitter.lastSignedInAt === null;
    submitter.lastSignedInAt = now;
    await repo.save(submitter);
    if (created) {
      await record(tx, {
        actor: submitterActor(submitter),
        action: 'submitter.created',
        subject: { type: 'submitter', id: submitter.id },
        details: { email: submitter.email },
        context: cmd.context,
        at: now,
      });
    }
    await record(tx, {
      actor: submitterActor(submitter),
      action: 'submitter.signed_in',
      subject: { type: 'submitter', id: submitter.id },
      details: { linkId: link.id },
      context: cmd.context,
      at: now,
    });
    return submitter;
  });
}
