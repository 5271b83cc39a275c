import { createHash, randomBytes } from 'node:crypto';
import { EntityManager } from 'typeorm';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { normaliseDomain } from '../../shared/url';
import { record, RequestContext } from '../audit';
import { staffEmails } from '../auth';
import { findSourcesByDomain, withdrawSource } from '../items';
import { enqueue } from '../mail';
import type { OptOutDto } from './opt-out.dto';
import { OptOutRequest } from './opt-out-request.entity';

export type OptOutDeps = Pick<AppDeps, 'db' | 'clock' | 'config'>;

export const LINK_HOURS = 48;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** "https://www.example.com/about" or "Example.com" → "example.com"; null when it is not a host name. */
export function domainOf(input: string): string | null {
  const s = input.trim();
  if (/^https?:\/\//i.test(s)) {
    try {
      return normaliseDomain(new URL(s).hostname);
    } catch {
      return null;
    }
  }
  const d = normaliseDomain(s);
  return d && d.includes('.') ? d : null;
}

/** An address proves control when it is at one of the source's domains (or a subdomain), or is its listed contact. */
export function addressProvesControl(email: string, source: { domains: string[]; contactEmail: string | null }): boolean {
  const e = email.trim().toLowerCase();
  if (source.contactEmail && e === source.contactEmail.toLowerCase()) return true;
  const at = e.lastIndexOf('@');
  if (at < 1) return false;
  const host = normaliseDomain(e.slice(at + 1));
  return !!host && source.domains.some((d) => host === d || host.endsWith(`.${d}`));
}

/**
 * Step 1: a publisher asks to opt out. The domain must be a known source's, and the address at that
 * domain or the source's listed contact (refused otherwise, nothing stored). Stores the request
 * with the hash of a single-use token and emails the confirmation link, in one transaction.
 */
export async function requestOptOut(
  deps: OptOutDeps,
  cmd: { dto: OptOutDto; context: RequestContext },
): Promise<{ domain: string; sources: string[] }> {
  const domain = domainOf(cmd.dto.domain);
  if (!domain) throw AppError.validation([{ field: 'domain', message: 'Enter the domain of your site, like example.com.' }]);
  const email = cmd.dto.email.trim().toLowerCase();
  return withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const sources = await findSourcesByDomain(tx, domain);
    if (!sources.length) {
      const message = `We do not republish anything from ${domain}, so there is nothing to opt out of. If you see your articles on this site under another domain, enter that one.`;
      throw new AppError('OPT_OUT.UNKNOWN_DOMAIN', message, 404, { errors: [{ field: 'domain', message }] });
    }
    const proving = sources.filter((s) => addressProvesControl(email, s));
    if (!proving.length) {
      throw AppError.validation([
        {
          field: 'email',
          message: `Use an address at ${domain} (or the contact address listed for this publisher), so that the link we send proves you control the site.`,
        },
      ]);
    }
    const token = randomBytes(32).toString('base64url');
    const repo = tx.getRepository(OptOutRequest);
    const req = await repo.save(
      repo.create({
        domain,
        sourceIds: sources.map((s) => s.id),
        email,
        tokenHash: hashToken(token),
        requestedAt: now,
        expiresAt: new Date(now.getTime() + LINK_HOURS * 3_600_000),
        confirmedAt: null,
        requesterIp: cmd.context.ip ?? null,
      }),
    );
    await record(tx, {
      actor: { type: 'public', label: email },
      action: 'opt_out.requested',
      subject: { type: 'opt_out', id: req.id },
      details: { domain, sources: sources.map((s) => ({ id: s.id, name: s.name })) },
      context: cmd.context,
      at: now,
    });
    await enqueue(
      tx,
      'opt-out-confirm',
      email,
      {
        domain,
        sources: sources.map((s) => s.name),
        confirmUrl: `${deps.config.publicBaseUrl}/opt-out/confirm?token=${token}`,
        expiresAt: req.expiresAt.toISOString(),
        hours: LINK_HOURS,
      },
      { dedupeKey: `opt-out-confirm:${req.id}` },
    );
    return { domain, sources: sources.map((s) => s.name) };
  });
}

/** The request a link names, or why the link does not work (unknown, used, expired). */
export async function findOptOutLink(tx: EntityManager, token: unknown, now: Date, lock = false): Promise<OptOutRequest> {
  const valid = typeof token === 'string' && /^[\w-]{20,100}$/.test(token);
  const req = valid
    ? await tx
        .getRepository(OptOutRequest)
        .findOne({ where: { tokenHash: hashToken(token as string) }, ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}) })
    : null;
  if (!req)
    throw new AppError(
      'OPT_OUT.LINK_UNKNOWN',
      'This opt-out link is not valid. Copy the whole link from the email, or ask for a new one at /opt-out.',
      404,
    );
  if (req.confirmedAt)
    throw new AppError(
      'OPT_OUT.LINK_USED',
      `This link was already used on ${req.confirmedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC: ${req.domain} is already opted out. Nothing more to do.`,
      410,
    );
  if (req.expiresAt <= now)
    throw new AppError(
      'OPT_OUT.LINK_EXPIRED',
      `This link expired ${LINK_HOURS} hours after it was sent. Ask for a new one at /opt-out; nothing was changed.`,
      410,
    );
  return req;
}

/** What the confirmation page shows before the button. */
export async function describeOptOutLink(deps: OptOutDeps, token: unknown): Promise<{ domain: string; sources: string[] }> {
  const req = await findOptOutLink(deps.db.manager, token, deps.clock.now());
  const rows: { name: string }[] = await deps.db.query(`SELECT name FROM sources WHERE id = ANY($1::uuid[]) ORDER BY name`, [
    req.sourceIds,
  ]);
  return { domain: req.domain, sources: rows.map((r) => r.name) };
}

/**
 * Step 2: the link is used. In one transaction: the request is marked used, every source of the
 * domain → `blocked` and its items → `withdrawn` (410) through the registry's `withdrawSource`
 * (no strike), audited, and the admins told. A used or expired link changes nothing.
 */
export async function confirmOptOut(
  deps: OptOutDeps,
  cmd: { token: unknown; context: RequestContext },
): Promise<{ domain: string; sources: string[]; withdrawn: number }> {
  return withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const req = await findOptOutLink(tx, cmd.token, now, true);
    req.confirmedAt = now;
    await tx.getRepository(OptOutRequest).save(req);
    const actor = { type: 'public' as const, label: req.email };
    let withdrawn = 0;
    const names: string[] = [];
    for (const sourceId of req.sourceIds) {
      const r = await withdrawSource(tx, {
        sourceId,
        reason: `publisher opt-out confirmed by ${req.email}`,
        actor,
        context: cmd.context,
        at: now,
      });
      withdrawn += r.withdrawn;
      names.push(r.source.name);
    }
    await record(tx, {
      actor,
      action: 'opt_out.confirmed',
      subject: { type: 'opt_out', id: req.id },
      details: { domain: req.domain, sources: req.sourceIds, itemsWithdrawn: withdrawn },
      context: cmd.context,
      at: now,
    });
    for (const email of await staffEmails(tx, 'admin')) {
      await enqueue(
        tx,
        'source-opted-out',
        email,
        {
          domain: req.domain,
          sources: names,
          withdrawn,
          by: req.email,
          at: now.toISOString(),
          sourcesUrl: `${deps.config.publicBaseUrl}/sources`,
        },
        { dedupeKey: `source-opted-out:${req.id}:${email}` },
      );
    }
    return { domain: req.domain, sources: names, withdrawn };
  });
}
