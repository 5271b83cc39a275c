import { createHash, randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { secretBox } from '../../shared/secret-box';
import { normaliseUrl } from '../../shared/url';
import { canonicalJson } from '../audit';
import { PUBLIC, record, RequestContext } from '../audit';
import { findItemsByUrls } from '../items';
import { enqueueMany } from '../mail';
import { ACCURACY_STATEMENT, GOOD_FAITH_STATEMENT, NoticeDto } from './notice.dto';
import { Notice, NoticeChannel } from './notice.entity';
import { NoticeTarget } from './notice-target.entity';
import { insertNoticeWithTargets, intakeFacts, targetsOf } from './notices.queries';
import { moderatorNotifications, notifiesEachNotice } from './notify-moderators';
import { newStatusToken } from './status-token';
import { computeFlags, TriageTarget } from './triage';

export type SubmitDeps = Pick<AppDeps, 'db' | 'clock' | 'config' | 'sessionSecret'>;

export interface SubmitNotice {
  dto: NoticeDto;
  channel: NoticeChannel;
  context: RequestContext;
  /** API only: a retried request with the same key returns the first answer. */
  idempotencyKey?: string;
  /**
   * The address was proved already (a signed-in portal submitter, SPEC §14): the notice enters the
   * queue at once, with no verification link, even when REQUIRE_EMAIL_VERIFICATION is on.
   */
  verifiedEmail?: boolean;
  /**
   * The submitter's standing statements stand in for the notice's own (SPEC §14): the notice
   * records their text, their date (as `statementsAt`) and the version relied on.
   */
  standingStatements?: StandingStatementsRef;
}

export interface StandingStatementsRef {
  id: string;
  goodFaithStatement: string;
  accuracyStatement: string;
  madeAt: Date;
}

/** What the API answers (SPEC §7), and what the form redirects to. */
export interface SubmitAnswer {
  reference: string;
  status: string;
  statusUrl: string;
  targets: { url: string; matched: boolean; itemId: string | null }[];
}

const IDEMPOTENCY_HOURS = 24;

/**
 * Takes a takedown notice: folds and matches its URLs against the registry, computes triage
 * flags, and in ONE transaction writes the notice, its targets, the `notice.submitted` audit
 * event, the acknowledgement email (with the status link) and the moderators' notification.
 */
export async function submitNotice(deps: SubmitDeps, cmd: SubmitNotice): Promise<{ answer: SubmitAnswer; replayed: boolean }> {
  const { config } = deps;
  const now = deps.clock.now();
  const dto = cmd.dto;
  const email = dto.email.trim().toLowerCase();

  // Fold duplicates: two spellings of one URL are one target.
  const seen = new Set<string>();
  const targets: { url: string; normalisedUrl: string }[] = [];
  for (const raw of dto.infringingUrls) {
    const url = raw.trim();
    const normalisedUrl = normaliseUrl(url, config.publicBaseUrl) ?? url;
    if (seen.has(normalisedUrl)) continue;
    seen.add(normalisedUrl);
    targets.push({ url, normalisedUrl });
  }
  const originalUrls = [...new Set((dto.originalUrls ?? []).map((u) => u.trim()))];
  const fingerprint = cmd.idempotencyKey ? createHash('sha256').update(canonicalJson(dto)).digest('hex') : undefined;
  const box = cmd.idempotencyKey ? secretBox(deps.sessionSecret, 'idempotency') : undefined;
  const verify = config.policy.requireEmailVerification && !cmd.verifiedEmail;
  const standing = cmd.standingStatements;

  // Reads that need no lock run first, so the transaction below is short: the registry match,
  // then one statement for the rest (sender, duplicates, reference, moderators). Triage flags are
  // advice: two notices racing past each other's duplicate check is harmless.
  const pool = deps.db.manager;
  const matches = await findItemsByUrls(pool, targets.map((t) => t.url), { baseUrl: config.publicBaseUrl });
  const items = targets.map((t) => matches.get(t.url) ?? null);
  const { reference, recentFromSender, duplicateOf, moderators } = await intakeFacts(pool, {
    email,
    ip: cmd.context.ip,
    since: new Date(now.getTime() - 3_600_000),
    cap: config.policy.senderBurst,
    normalisedUrls: targets.map((t) => t.normalisedUrl),
    itemIds: items.filter((i) => i).map((i) => i!.id),
    withModerators: !verify && notifiesEachNotice(config),
  });
  const triageTargets: TriageTarget[] = targets.map((t, i) => {
    const item = items[i];
    return {
      url: t.url,
      item: item && {
        status: item.status,
        originalUrl: item.originalUrl,
        sourceName: item.source?.name ?? 'its source',
        sourceDomains: item.source?.domains ?? [],
        firstFetchedAt: item.firstFetchedAt,
      },
    };
  });
  const flags = computeFlags({
    claimType: dto.claimType ?? 'copyright',
    email,
    originalUrls,
    workPublishedAt: dto.workPublishedAt,
    targets: triageTargets,
    duplicateOf,
    recentFromSender,
    senderBurst: config.policy.senderBurst,
  });

  return withTransaction(deps.db, async (tx) => {
    if (cmd.idempotencyKey) {
      const earlier = await claimIdempotencyKey(tx, cmd.idempotencyKey, fingerprint!, now);
      if (earlier) return { answer: JSON.parse(box!.open(earlier)) as SubmitAnswer, replayed: true };
    }

    const { token, hash } = newStatusToken();
    const notice = tx.getRepository(Notice).create({
      id: randomUUID(),
      reference,
      status: verify ? 'unverified' : 'pending',
      claimType: dto.claimType ?? 'copyright',
      name: dto.name.trim(),
      organization: dto.organization?.trim() || null,
      email,
      phone: dto.phone?.trim() || null,
      address: dto.address.trim(),
      country: dto.country.toUpperCase(),
      role: dto.role,
      rightsOwner: dto.role === 'agent' ? dto.rightsOwner!.trim() : null,
      workDescription: dto.workDescription.trim(),
      originalUrls,
      workPublishedAt: dto.workPublishedAt ?? null,
      goodFaithStatement: standing?.goodFaithStatement ?? GOOD_FAITH_STATEMENT,
      accuracyStatement: standing?.accuracyStatement ?? ACCURACY_STATEMENT,
      statementsAt: standing?.madeAt ?? now,
      statementsSource: standing ? 'standing' : 'notice',
      standingStatementsId: standing?.id ?? null,
      signature: dto.signature.trim(),
      submittedAt: now,
      channel: cmd.channel,
      submitterIp: cmd.context.ip ?? null,
      statusTokenHash: hash,
      emailVerifiedAt: cmd.verifiedEmail ? now : null,
      flags,
      queuedAt: verify ? null : now,
      dueAt: verify ? null : new Date(now.getTime() + config.policy.slaHours * 3_600_000),
    });
    await insertNoticeWithTargets(
      tx,
      notice,
      targets.map((t, i) => ({ ...t, itemId: items[i]?.id ?? null, outcome: items[i] ? 'pending' : 'not_found' })),
    );
    const matched = items.filter((i) => i).length;
    await record(tx, {
      actor: PUBLIC,
      action: 'notice.submitted',
      subject: { type: 'notice', id: notice.reference },
      details: { channel: cmd.channel, ...(cmd.verifiedEmail ? { portal: true } : {}), ...(standing ? { statements: 'standing', statementsMadeAt: standing.madeAt.toISOString() } : {}), claimType: notice.claimType, status: notice.status, urls: targets.length, matched, flags: flags.map((f) => f.code) },
      context: cmd.context,
      at: now,
    });

    // The acknowledgement (with the status link) and the moderators' notifications: one statement.
    const statusPath = `/takedown/${notice.reference}?token=${token}`;
    const statusUrl = `${config.publicBaseUrl}${statusPath}`;
    await enqueueMany(tx, [
      {
        template: 'notice-received',
        to: notice.email,
        data: {
          reference: notice.reference,
          name: notice.name,
          statusUrl,
          verifyUrl: verify ? `${config.publicBaseUrl}/takedown/${notice.reference}/verify?token=${token}` : null,
          claimType: notice.claimType,
          targets: targets.map((t, i) => ({ url: t.url, matched: !!items[i] })),
          noneOnSite: matched === 0,
          goodFaithStatement: notice.goodFaithStatement,
          accuracyStatement: notice.accuracyStatement,
          statementsFromStanding: standing ? standing.madeAt.toISOString() : null,
          signature: notice.signature,
          submittedAt: now.toISOString(),
        },
        opts: { noticeId: notice.id, dedupeKey: `notice-received:${notice.id}` },
      },
      ...moderatorNotifications(deps, notice, targets.length, matched, moderators),
    ]);

    const answer: SubmitAnswer = {
      reference: notice.reference,
      status: notice.status,
      statusUrl,
      targets: targets.map((t, i) => ({ url: t.url, matched: !!items[i], itemId: items[i]?.id ?? null })),
    };
    if (cmd.idempotencyKey) await storeIdempotentAnswer(tx, cmd.idempotencyKey, box!.seal(JSON.stringify(answer)));
    return { answer, replayed: false };
  });
}

/**
 * Takes the idempotency key for this transaction. A concurrent request with the same key waits
 * on the unique index until this one commits, then finds the stored answer. Returns the sealed
 * earlier answer, or null when this request is the first.
 */
async function claimIdempotencyKey(tx: EntityManager, key: string, fingerprint: string, now: Date): Promise<string | null> {
  const inserted: unknown[] = await tx.query(
    `INSERT INTO idempotency_keys (key, scope, fingerprint, created_at) VALUES ($1, 'notice', $2, $3)
     ON CONFLICT (scope, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, response = NULL, created_at = EXCLUDED.created_at
       WHERE idempotency_keys.created_at < $4
     RETURNING key`,
    [key, fingerprint, now, new Date(now.getTime() - IDEMPOTENCY_HOURS * 3_600_000)],
  );
  if (inserted.length) return null;
  const [row] = await tx.query(`SELECT fingerprint, response FROM idempotency_keys WHERE scope = 'notice' AND key = $1`, [key]);
  if (!row || row.fingerprint !== fingerprint) {
    throw new AppError('IDEMPOTENCY.MISMATCH', 'This Idempotency-Key was already used for a different notice. Use a new key for a new notice.', 422, {
      errors: [{ field: 'Idempotency-Key', message: 'This key was already used with a different request body.' }],
    });
  }
  if (!row.response) throw AppError.conflict('IDEMPOTENCY.IN_PROGRESS', 'The first request with this Idempotency-Key is still being processed; retry shortly.');
  return row.response;
}

async function storeIdempotentAnswer(tx: EntityManager, key: string, sealed: string) {
  await tx.query(`UPDATE idempotency_keys SET response = $2 WHERE scope = 'notice' AND key = $1`, [key, sealed]);
}


/** Scheduled: idempotency keys older than 24 hours are of no use any more. */
export async function purgeIdempotencyKeys(deps: Pick<AppDeps, 'db' | 'clock'>): Promise<number> {
  const cutoff = new Date(deps.clock.now().getTime() - IDEMPOTENCY_HOURS * 3_600_000);
  const [, n] = await deps.db.query(`DELETE FROM idempotency_keys WHERE created_at < $1`, [cutoff]);
  return n;
}
