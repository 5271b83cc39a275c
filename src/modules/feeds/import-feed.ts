import type { DataSource } from 'typeorm';
import type { Config } from '../../config';
import { withTransaction } from '../../db/transaction';
import type { Clock } from '../../shared/clock';
import { AppError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import { Actor, record, RequestContext, SYSTEM } from '../audit';
import { FeedFetchError, fetchFeedInto, FetchFeedOptions, FetchFeedResult } from './fetch-feed';
import { FeedEntry, feedDecoder, FeedParseError, openFeed } from './parse-feed';
import { FetchResult, ItemInput, lockSource, purgeUpserted, sha256, Source, upsertItems, UpsertSeen } from '../items';

export interface ImportDeps {
  db: DataSource;
  config: Config;
  clock: Clock;
  logger: Logger;
}

export interface ImportOptions {
  actor?: Actor;
  context?: RequestContext;
  /** Called after each batch: entries handled so far, of how many. */
  onProgress?: (done: number, total: number) => void;
  /** Download limits (tests shorten the timeout). */
  limits?: Pick<FetchFeedOptions, 'timeoutMs' | 'maxBytes' | 'maxRedirects'>;
}

/** Entries parsed, sanitised and written at a time: an import's memory is one batch, whatever the feed's length. */
const IMPORT_BATCH = 250;

/** The entries as item inputs, `size` at a time. */
function* batches(entries: Iterable<FeedEntry>, size: number): Generator<ItemInput[]> {
  let batch: ItemInput[] = [];
  for (const e of entries) {
    batch.push(entryToInput(e));
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

/**
 * One import at a time in this process (issue 18: memory): an import holds its document (up to
 * FEED_LIMITS.maxBytes, as bytes and then as text) and one batch; four imports asked for at once
 * would hold four. The others wait their turn (first come, first served); the database work of one
 * import is one transaction anyway, and the instances share the sources between them.
 */
let importTurn: Promise<unknown> = Promise.resolve();
function inTurn<T>(work: () => Promise<T>): Promise<T> {
  const mine = importTurn.then(work, work);
  importTurn = mine.catch(() => undefined);
  return mine;
}

/** How long an import may hold a source before another instance may take it over. */
const LEASE_MS = 10 * 60_000;

export function entryToInput(e: FeedEntry): ItemInput {
  return {
    guid: e.guid ?? e.link ?? '',
    title: e.title,
    titleIsHtml: e.titleIsHtml,
    author: e.author,
    originalUrl: e.link ?? '',
    publishedAt: e.publishedAt,
    contentHtml: e.contentHtml,
    rights: e.rights,
    rawSha256: sha256(e.raw),
    aliases: e.urls,
  };
}

/**
 * `POST /sources/:id/fetch`, the API and `import-feed --source`: imports one source now and returns
 * what happened. Refused (409) while another import of it runs, or when it is paused or blocked.
 */
export async function importFeedNow(deps: ImportDeps, sourceId: string, opts: ImportOptions = {}): Promise<FetchResult> {
  const now = deps.clock.now();
  const source = await withTransaction(deps.db, async (tx) => {
    const s = await lockSource(tx, sourceId);
    if (!s.feedUrl) throw AppError.conflict('SOURCE.NO_FEED', `${s.name} has no feed URL: its items are added through the API or a file.`);
    if (s.status !== 'active') throw AppError.conflict('SOURCE.NOT_ACTIVE', `${s.name} is ${s.status}: activate it before importing.`);
    if (s.fetchingUntil && s.fetchingUntil > now)
      throw AppError.conflict('SOURCE.FETCHING', `${s.name} is being imported right now; try again in a moment.`);
    s.fetchingUntil = new Date(now.getTime() + LEASE_MS);
    s.nextFetchAt = new Date(now.getTime() + deps.config.policy.feedIntervalMinutes * 60_000);
    return tx.getRepository(Source).save(s);
  });
  return runImport(deps, source, opts);
}

/**
 * The scheduled job: imports every due active source, one at a time. Each source is claimed with
 * `FOR UPDATE SKIP LOCKED` in a short transaction that also sets its lease and next due time, so
 * several instances share the work and never import one source twice at once.
 */
export async function importDueSources(deps: ImportDeps, opts: { max?: number; shouldStop?: () => boolean } = {}): Promise<number> {
  let done = 0;
  while (done < (opts.max ?? 100) && !opts.shouldStop?.()) {
    const now = deps.clock.now();
    const rows: Source[] = await deps.db.transaction(async (tx) => {
      const claimed = await tx.query(
        `UPDATE sources SET fetching_until = $2, next_fetch_at = $3
         WHERE id = (
           SELECT id FROM sources
           WHERE status = 'active' AND feed_url IS NOT NULL AND (next_fetch_at IS NULL OR next_fetch_at <= $1)
             AND (fetching_until IS NULL OR fetching_until < $1)
           ORDER BY next_fetch_at NULLS FIRST LIMIT 1
           FOR UPDATE SKIP LOCKED)
         RETURNING id`,
        [now, new Date(now.getTime() + LEASE_MS), new Date(now.getTime() + deps.config.policy.feedIntervalMinutes * 60_000)],
      );
      const ids = (claimed[0] as { id: string }[]).map((r) => r.id);
      return ids.length ? tx.getRepository(Source).findBy({ id: ids[0] }) : [];
    });
    if (!rows.length) break;
    await runImport(deps, rows[0], {});
    done++;
  }
  return done;
}

function runImport(deps: ImportDeps, source: Source, opts: ImportOptions): Promise<FetchResult> {
  return inTurn(() => importOne(deps, source, opts));
}

async function importOne(deps: ImportDeps, source: Source, opts: ImportOptions): Promise<FetchResult> {
  const started = Date.now();
  const actor = opts.actor ?? SYSTEM;
  const feedUrl = source.feedUrl!;
  let result: FetchResult;
  try {
    let fetched: FetchFeedResult<string> | undefined = await fetchFeedInto(
      feedUrl,
      {
        etag: source.lastFetchEtag,
        lastModified: source.lastFetchModified,
        allowPrivate: deps.config.policy.allowPrivateFeeds,
        userAgent: `TakedownDesk (+${deps.config.publicBaseUrl})`,
        ...opts.limits,
      },
      // Decoded as it arrives: the import holds the feed as text only, never also as one large buffer.
      feedDecoder,
    );
    if (fetched.notModified) {
      result = {
        ok: true,
        notModified: true,
        httpStatus: 304,
        entries: 0,
        created: 0,
        updated: 0,
        unchanged: 0,
        skipped: {},
        ms: Date.now() - started,
      };
      await finish(deps, source, result, { actor, context: opts.context });
      return result;
    }
    // The feed is read one entry at a time and written in batches (issue 18: memory): the import
    // holds the document's text and one batch, never a tree or an array of every entry.
    const feed = openFeed(fetched.body, fetched.finalUrl);
    const validators = { etag: fetched.etag, lastModified: fetched.lastModified };
    const httpStatus = fetched.httpStatus;
    fetched = undefined; // openFeed keeps the text it needs
    const now = deps.clock.now();
    const r: FetchResult = { ok: true, httpStatus, entries: feed.count, created: 0, updated: 0, unchanged: 0, skipped: {} };
    // One transaction: every item change of this import and its audit event commit together.
    await withTransaction(deps.db, async (tx) => {
      const seen: UpsertSeen = { guids: new Set(), urls: new Map() };
      const touched = { createdIds: [] as string[], updatedIds: [] as string[] };
      let offset = 0;
      for (const inputs of batches(feed.entries(), IMPORT_BATCH)) {
        const part = await upsertItems(tx, {
          source,
          inputs,
          now,
          feedUrl,
          seen,
          onProgress: opts.onProgress && ((done) => opts.onProgress!(offset + done, feed.count)),
          staydownSimilarity: deps.config.policy.staydownSimilarity,
        });
        offset += inputs.length;
        r.created! += part.created;
        r.updated! += part.updated;
        r.unchanged! += part.unchanged;
        for (const [why, n] of Object.entries(part.skipped)) r.skipped![why] = (r.skipped![why] ?? 0) + n;
        if (part.held) r.held = (r.held ?? 0) + part.held;
        // Enough to choose the purge (item keys, or the source's key past 200 updated pages).
        if (part.createdIds.length && !touched.createdIds.length) touched.createdIds.push(part.createdIds[0]);
        if (touched.updatedIds.length <= 200) touched.updatedIds.push(...part.updatedIds.slice(0, 201 - touched.updatedIds.length));
      }
      await purgeUpserted(tx, source, touched, now);
      r.ms = Date.now() - started;
      await saveResult(tx, source, r, validators, now, { actor, context: opts.context });
    });
    result = r;
    return result;
  } catch (err) {
    if (!(err instanceof FeedFetchError || err instanceof FeedParseError)) {
      deps.logger.error({ err, sourceId: source.id }, 'feed import failed');
    }
    const reason =
      err instanceof FeedFetchError || err instanceof FeedParseError ? err.message : 'an internal error stopped the import (see the logs)';
    result = { ok: false, reason, ms: Date.now() - started };
    await finish(deps, source, result, { actor, context: opts.context }).catch((e) =>
      deps.logger.error({ err: e, sourceId: source.id }, 'could not record a failed import'),
    );
    return result;
  }
}

async function finish(deps: ImportDeps, source: Source, result: FetchResult, who: { actor: Actor; context?: RequestContext }) {
  await withTransaction(deps.db, (tx) => saveResult(tx, source, result, null, deps.clock.now(), who));
}

async function saveResult(
  tx: import('typeorm').EntityManager,
  source: Source,
  result: FetchResult,
  validators: { etag: string | null; lastModified: string | null } | null,
  now: Date,
  who: { actor: Actor; context?: RequestContext },
) {
  // Validators are kept only from a complete import: after a failure the next one downloads in full.
  await tx.query(
    `UPDATE sources SET last_fetch_at = $2, last_fetch_result = $3::jsonb, fetching_until = NULL, updated_at = $2
       ${validators ? ', last_fetch_etag = $4, last_fetch_modified = $5' : ''}
     WHERE id = $1`,
    validators
      ? [source.id, now, JSON.stringify(result), validators.etag, validators.lastModified]
      : [source.id, now, JSON.stringify(result)],
  );
  await record(tx, {
    actor: who.actor,
    action: result.ok ? 'source.fetched' : 'source.fetch_failed',
    subject: { type: 'source', id: source.id },
    details: { name: source.name, feedUrl: source.feedUrl, ...result },
    context: who.context,
    at: now,
  });
}

/** One line saying what an import did, for the sources page, the CLI and flash messages. */
export function describeResult(r: FetchResult | null): string {
  if (!r) return 'never imported';
  if (!r.ok) return `failed: ${r.reason}`;
  if (r.notModified) return 'not modified since the last import (304)';
  const skipped = Object.entries(r.skipped ?? {});
  const nSkipped = skipped.reduce((n, [, v]) => n + v, 0);
  return (
    `${r.created ?? 0} new, ${r.updated ?? 0} updated, ${r.unchanged ?? 0} unchanged, ${nSkipped} skipped` +
    (r.held ? `, ${r.held} held (copies of removed content, waiting in /items?status=held)` : '') +
    (nSkipped ? ` (${skipped.map(([k, v]) => `${k}: ${v}`).join('; ')})` : '')
  );
}
