import { createHash, randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { secretBox } from '../../shared/secret-box';
import { runAsOneStatement } from '../../db/one-statement';
import { statementGroups } from '../../db/statement-groups';
import { auditEventPart, type AuditInput, canonicalJson, PUBLIC, RequestContext } from '../audit';
import { emailsPart } from '../mail';
import { ACCURACY_STATEMENT, GOOD_FAITH_STATEMENT, NoticeDto } from './notice.dto';
import { Notice, NoticeChannel, type TriageFlag } from './notice.entity';
import { statusLinks } from './notice-emails';
import { intakeEmails, prepareIntake, preparedNoticeParts, targetRowsOf, type PreparedIntake } from './intake';
import { notifiesEachNotice } from './notify-moderators';
import { newStatusToken } from './status-token';
import { noticeEventParts } from '../webhooks';

export type SubmitDeps = Pick<AppDeps, 'db' | 'clock' | 'config' | 'sessionSecret'>;

export interface SubmitNotice {
  dto: NoticeDto;
  channel: NoticeChannel;
  context: RequestContext;
  /**
   * A request of the public form or API: its read and its write join those of concurrent
   * requests (db/statement-groups.ts, issue 18). Not for the mailbox and batch jobs, which read
   * several notices side by side by themselves: queued behind one another's reads they were
   * slower (inbound bench, 400 letters: all read after 12.8–12.9 s instead of 10.4–10.8 s).
   */
  grouped?: boolean;
  /** API only: a retried request with the same key returns the first answer. */
  idempotencyKey?: string;
  /** Runs in the same transaction once the notice is written (the mailbox links its email to it). */
  alsoInTransaction?: (tx: EntityManager, notice: Notice) => Promise<void>;
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
 * flags, and in ONE statement writes the notice, its targets, the webhooks' deliveries, the
 * `notice.submitted` audit event, the acknowledgement email (with the status link) and the
 * moderators' notification; with an Idempotency-Key, in one transaction with the key.
 * `noticeId` is the notice's id (null when the answer is a replay: the first request made it).
 */
export async function submitNotice(
  deps: SubmitDeps,
  cmd: SubmitNotice,
): Promise<{ answer: SubmitAnswer; replayed: boolean; noticeId: string | null }> {
  return commitNotice(deps, cmd, await prepareNotice(deps, cmd));
}

/** What `prepareNotice` read (no lock, nothing written) for `commitNotice` to write. */
export interface PreparedNotice {
  prepared: PreparedIntake;
  verify: boolean;
}

/**
 * The reads of `submitNotice` that need no lock (the intake every channel shares: registry match,
 * triage facts, flags), so the write holds no lock while we think. Split out for the batch job,
 * which reads the next work while the previous one is written (issue 17: the two overlap on the
 * database and in this process instead of taking turns). Triage flags are advice: two notices
 * racing past each other's duplicate check is harmless.
 */
export async function prepareNotice(deps: SubmitDeps, cmd: SubmitNotice): Promise<PreparedNotice> {
  const { config } = deps;
  const { dto } = cmd;
  const verify = config.policy.requireEmailVerification && !cmd.verifiedEmail;
  const prepared = await prepareIntake(deps, {
    email: dto.email.trim().toLowerCase(),
    ip: cmd.context.ip,
    infringingUrls: dto.infringingUrls,
    originalUrls: dto.originalUrls ?? [],
    claimType: dto.claimType ?? 'copyright',
    workPublishedAt: dto.workPublishedAt,
    withModerators: !verify && notifiesEachNotice(config),
    grouped: cmd.grouped,
  });
  return { prepared, verify };
}

/** The write of `submitNotice`, from what `prepareNotice` read for the same `cmd`: one statement (in a transaction when there is a key or caller's writes). */
export async function commitNotice(
  deps: SubmitDeps,
  cmd: SubmitNotice,
  { prepared, verify }: PreparedNotice,
): Promise<{ answer: SubmitAnswer; replayed: boolean; noticeId: string | null }> {
  const { config } = deps;
  const now = deps.clock.now();
  const { dto } = cmd;
  const email = dto.email.trim().toLowerCase();
  const { targets, items, originalUrls, flags } = prepared;
  if (prepared.refusal) throw prepared.refusal;
  // Trust needs a proved address (portal session, submitter token, batch): a stranger typing a
  // trusted flagger's address into the public form gets no priority.
  const trusted = !!cmd.verifiedEmail && !!prepared.submitter?.trusted;

  const { token, hash } = newStatusToken();
  const notice = deps.db.manager.getRepository(Notice).create(
    newNotice(dto, {
      reference: prepared.reference,
      email,
      originalUrls,
      flags,
      channel: cmd.channel,
      ip: cmd.context.ip,
      tokenHash: hash,
      verify,
      now,
      slaHours: config.policy.slaHours,
      verifiedEmail: !!cmd.verifiedEmail,
      standing: cmd.standingStatements,
      trusted,
    }),
  );
  const links = statusLinks(config.publicBaseUrl, notice.reference, token, verify);
  const targetRows = targets.map((t, i) => ({ url: t.url, matched: !!items[i], itemId: items[i]?.id ?? null }));
  const answer: SubmitAnswer = { reference: notice.reference, status: notice.status, statusUrl: links.statusUrl, targets: targetRows };
  // Everything the intake writes — the notice and its targets, the webhooks' `notice.status_changed`,
  // the `notice.submitted` audit event, the acknowledgement (with the status link) and the
  // moderators' notifications — as ONE statement: atomic by itself, one round trip (issue 18).
  const writes = [
    ...preparedNoticeParts(deps.db.manager, notice, prepared),
    ...noticeEventParts(deps, notice, { from: null, at: now, targets: targetRowsOf(prepared) }),
    auditEventPart(submittedEvent(cmd, notice, { at: now, trusted, urls: targets.length, matched: prepared.matched, flags })),
    emailsPart(intakeEmails(deps, notice, prepared, links)),
  ];
  if (!cmd.idempotencyKey && !cmd.alsoInTransaction) {
    // A request's write goes with those of the requests arriving meanwhile (group commit, issue 18).
    if (cmd.grouped) await statementGroups(deps.db).write(writes);
    else await runAsOneStatement(deps.db, writes);
    return { answer, replayed: false, noticeId: notice.id };
  }
  // A key to claim (stored with its answer) or the caller's own writes: a transaction around the statement.
  return withTransaction(deps.db, async (tx) => {
    if (cmd.idempotencyKey) {
      const fingerprint = createHash('sha256').update(canonicalJson(dto)).digest('hex');
      const box = secretBox(deps.sessionSecret, 'idempotency');
      // The answer is stored with the key (it is known before anything is written): one statement.
      const earlier = await claimIdempotencyKey(tx, cmd.idempotencyKey, fingerprint, now, box.seal(JSON.stringify(answer)));
      if (earlier) return { answer: JSON.parse(box.open(earlier)) as SubmitAnswer, replayed: true, noticeId: null };
    }
    await runAsOneStatement(tx, writes);
    await cmd.alsoInTransaction?.(tx, notice);
    return { answer, replayed: false, noticeId: notice.id };
  });
}

/** The `notice.submitted` audit event: how the notice came in and what the intake found. */
function submittedEvent(
  cmd: SubmitNotice,
  notice: Notice,
  f: { at: Date; trusted: boolean; urls: number; matched: number; flags: TriageFlag[] },
): AuditInput {
  return {
    actor: PUBLIC,
    action: 'notice.submitted',
    subject: { type: 'notice', id: notice.reference },
    context: cmd.context,
    at: f.at,
    details: {
      channel: cmd.channel,
      ...(cmd.verifiedEmail ? { portal: true } : {}),
      ...(f.trusted ? { sourceType: 'trusted_flagger' } : {}),
      ...(cmd.standingStatements ? { statements: 'standing', statementsMadeAt: cmd.standingStatements.madeAt.toISOString() } : {}),
      claimType: notice.claimType,
      status: notice.status,
      urls: f.urls,
      matched: f.matched,
      flags: f.flags.map((x) => x.code),
    },
  };
}

/** The new notice's row, from the validated form or API body and what the intake found out. */
function newNotice(
  dto: NoticeDto,
  f: {
    reference: string;
    email: string;
    originalUrls: string[];
    flags: TriageFlag[];
    channel: NoticeChannel;
    ip?: string | null;
    tokenHash: string;
    verify: boolean;
    now: Date;
    slaHours: number;
    verifiedEmail: boolean;
    standing?: StandingStatementsRef;
    trusted: boolean;
  },
): Partial<Notice> {
  return {
    id: randomUUID(),
    reference: f.reference,
    status: f.verify ? 'unverified' : 'pending',
    claimType: dto.claimType ?? 'copyright',
    name: dto.name.trim(),
    organization: dto.organization?.trim() || null,
    email: f.email,
    phone: dto.phone?.trim() || null,
    address: dto.address.trim(),
    country: dto.country.toUpperCase(),
    role: dto.role,
    rightsOwner: dto.role === 'agent' ? dto.rightsOwner!.trim() : null,
    workDescription: dto.workDescription.trim(),
    originalUrls: f.originalUrls,
    workPublishedAt: dto.workPublishedAt ?? null,
    goodFaithStatement: f.standing?.goodFaithStatement ?? GOOD_FAITH_STATEMENT,
    accuracyStatement: f.standing?.accuracyStatement ?? ACCURACY_STATEMENT,
    statementsAt: f.standing?.madeAt ?? f.now,
    statementsSource: f.standing ? 'standing' : 'notice',
    standingStatementsId: f.standing?.id ?? null,
    sourceType: f.trusted ? 'trusted_flagger' : 'notice',
    queueRank: f.trusted ? 0 : 1,
    emailVerifiedAt: f.verifiedEmail ? f.now : null,
    signature: dto.signature.trim(),
    submittedAt: f.now,
    channel: f.channel,
    submitterIp: f.ip ?? null,
    statusTokenHash: f.tokenHash,
    flags: f.flags,
    queuedAt: f.verify ? null : f.now,
    dueAt: f.verify ? null : new Date(f.now.getTime() + f.slaHours * 3_600_000),
  };
}

/**
 * Takes the idempotency key for this transaction. A concurrent request with the same key waits
 * on the unique index until this one commits, then finds the stored answer. Returns the sealed
 * earlier answer, or null when this request is the first.
 */
async function claimIdempotencyKey(tx: EntityManager, key: string, fingerprint: string, now: Date, sealed: string): Promise<string | null> {
  const inserted: unknown[] = await tx.query(
    `INSERT INTO idempotency_keys (key, scope, fingerprint, created_at, response) VALUES ($1, 'notice', $2, $3, $5)
     ON CONFLICT (scope, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, response = EXCLUDED.response, created_at = EXCLUDED.created_at
       WHERE idempotency_keys.created_at < $4
     RETURNING key`,
    [key, fingerprint, now, new Date(now.getTime() - IDEMPOTENCY_HOURS * 3_600_000), sealed],
  );
  if (inserted.length) return null;
  const [row] = await tx.query(`SELECT fingerprint, response FROM idempotency_keys WHERE scope = 'notice' AND key = $1`, [key]);
  if (!row || row.fingerprint !== fingerprint) {
    throw new AppError(
      'IDEMPOTENCY.MISMATCH',
      'This Idempotency-Key was already used for a different notice. Use a new key for a new notice.',
      422,
      {
        errors: [{ field: 'Idempotency-Key', message: 'This key was already used with a different request body.' }],
      },
    );
  }
  if (!row.response)
    throw AppError.conflict(
      'IDEMPOTENCY.IN_PROGRESS',
      'The first request with this Idempotency-Key is still being processed; retry shortly.',
    );
  return row.response;
}

/** Scheduled: idempotency keys older than 24 hours are of no use any more. */
export async function purgeIdempotencyKeys(deps: Pick<AppDeps, 'db' | 'clock'>): Promise<number> {
  const cutoff = new Date(deps.clock.now().getTime() - IDEMPOTENCY_HOURS * 3_600_000);
  const [, n] = await deps.db.query(`DELETE FROM idempotency_keys WHERE created_at < $1`, [cutoff]);
  return n;
}
