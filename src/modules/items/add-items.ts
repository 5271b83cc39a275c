import { plainToInstance } from 'class-transformer';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { EntityManager } from 'typeorm';
import type { DataSource } from 'typeorm';
import { withTransaction } from '../../db/transaction';
import { AppError, FieldError } from '../../shared/errors';
import { validationErrors } from '../../shared/http';
import { normaliseUrl } from '../../shared/url';
import { Actor, record, RequestContext } from '../audit';
import { Item } from './item.entity';
import { CreateItemDto } from './items.dto';
import { guidKey, ItemInput, sha256, SKIP, upsertItems, UpsertResult } from './upsert-items';
import { Source } from './source.entity';

/** JSON with sorted keys: the same item always hashes the same. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export function dtoToInput(dto: CreateItemDto): ItemInput {
  const plain = { ...dto } as Record<string, unknown>;
  return {
    guid: dto.guid ?? dto.originalUrl,
    title: dto.title,
    author: dto.author ?? null,
    originalUrl: dto.originalUrl,
    publishedAt: dto.publishedAt ? new Date(dto.publishedAt) : null,
    contentHtml: dto.content ?? '',
    rights: { ...(dto.rights ?? {}) },
    rawSha256: sha256(canonical(plain)),
  };
}

async function sourceFor(tx: EntityManager, id: string): Promise<Source> {
  const source = await tx.getRepository(Source).findOneBy({ id });
  if (!source) throw AppError.validation([{ field: 'sourceId', message: 'There is no source with this id.' }]);
  if (source.status === 'blocked')
    throw AppError.conflict('SOURCE.BLOCKED', `${source.name} is blocked: no new items are accepted from it.`);
  return source;
}

/**
 * `POST /api/v1/items`: one item without a feed. Keyed like feed entries by (source, guid — the
 * original URL when no guid is given): sending it again changes nothing; a changed body updates it.
 */
export async function addItem(
  tx: EntityManager,
  cmd: { dto: CreateItemDto; actor: Actor; context?: RequestContext; now: Date; staydownSimilarity?: number },
): Promise<{ item: Item; outcome: 'created' | 'updated' | 'unchanged' }> {
  const source = await sourceFor(tx, cmd.dto.sourceId);
  const input = dtoToInput(cmd.dto);
  const r = await upsertItems(tx, { source, inputs: [input], now: cmd.now, feedUrl: null, staydownSimilarity: cmd.staydownSimilarity });
  if (r.skipped[SKIP.urlTaken]) {
    const [owner] = await tx.query(`SELECT id FROM items WHERE original_url_normalised = $1`, [normaliseUrl(input.originalUrl)]);
    throw AppError.conflict('ITEM.DUPLICATE', 'An item with this original URL is already in the registry.', { itemId: owner?.id });
  }
  if (r.skipped[SKIP.notPublished])
    throw AppError.conflict('ITEM.NOT_PUBLISHED', 'This item was removed or withdrawn; it cannot be changed.');
  if (Object.keys(r.skipped).length) throw AppError.conflict('ITEM.CONFLICT', `The item was not saved: ${Object.keys(r.skipped)[0]}.`);
  const item = await tx
    .getRepository(Item)
    .findOneOrFail({ where: { sourceId: source.id, guid: guidKey(input.guid) }, relations: { source: true } });
  const outcome = r.created ? 'created' : r.updated ? 'updated' : 'unchanged';
  if (outcome !== 'unchanged') {
    await record(tx, {
      actor: cmd.actor,
      action: outcome === 'created' ? 'item.created' : 'item.updated',
      subject: { type: 'item', id: item.id },
      details: { slug: item.slug, title: item.title, originalUrl: item.originalUrl, sourceId: source.id, rawSha256: item.rawSha256 },
      context: cmd.context,
      at: cmd.now,
    });
  }
  return { item, outcome };
}

export interface FileImportResult {
  lines: number;
  created: number;
  updated: number;
  unchanged: number;
  /** Stored `held`: they match removed content (SPEC §13). */
  held: number;
  skipped: Record<string, number>;
  invalid: { line: number; errors: FieldError[] }[];
}

/**
 * `npm run cli -- import-items FILE`: one JSON object per line, each validated like the API's body.
 * Valid lines are written in batches (one transaction and one `source.items_imported` audit event
 * per batch); invalid lines are reported with their line number and skipped.
 */
export async function importItemsFile(
  deps: { db: DataSource },
  file: string,
  opts: { actor: Actor; now: () => Date; onProgress?: (lines: number) => void; staydownSimilarity?: number },
): Promise<FileImportResult> {
  const out: FileImportResult = { lines: 0, created: 0, updated: 0, unchanged: 0, held: 0, skipped: {}, invalid: [] };
  const pending = new Map<string, ItemInput[]>();
  const sources = new Map<string, Source | null>();
  const add = (r: UpsertResult) => {
    out.created += r.created;
    out.updated += r.updated;
    out.unchanged += r.unchanged;
    out.held += r.held;
    for (const [k, n] of Object.entries(r.skipped)) out.skipped[k] = (out.skipped[k] ?? 0) + n;
  };
  const flush = async (sourceId: string) => {
    const inputs = pending.get(sourceId) ?? [];
    pending.delete(sourceId);
    if (!inputs.length) return;
    await withTransaction(deps.db, async (tx) => {
      const source = await sourceFor(tx, sourceId);
      const now = opts.now();
      const r = await upsertItems(tx, { source, inputs, now, feedUrl: null, staydownSimilarity: opts.staydownSimilarity });
      add(r);
      await record(tx, {
        actor: opts.actor,
        action: 'source.items_imported',
        subject: { type: 'source', id: source.id },
        details: {
          name: source.name,
          file: file.slice(-200),
          lines: inputs.length,
          created: r.created,
          updated: r.updated,
          unchanged: r.unchanged,
          skipped: r.skipped,
          held: r.held,
        },
        at: now,
      });
    });
  };
  const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of rl) {
    out.lines++;
    if (!line.trim()) continue;
    let body: unknown;
    try {
      body = JSON.parse(line);
    } catch {
      out.invalid.push({ line: out.lines, errors: [{ field: '', message: 'not valid JSON' }] });
      continue;
    }
    const errors = await validationErrors(CreateItemDto, body);
    if (errors.length) {
      out.invalid.push({ line: out.lines, errors });
      continue;
    }
    const dto = plainToInstance(CreateItemDto, body);
    if (!sources.has(dto.sourceId)) sources.set(dto.sourceId, await deps.db.getRepository(Source).findOneBy({ id: dto.sourceId }));
    const source = sources.get(dto.sourceId);
    if (!source || source.status === 'blocked') {
      out.invalid.push({
        line: out.lines,
        errors: [{ field: 'sourceId', message: source ? 'the source is blocked' : 'there is no source with this id' }],
      });
      continue;
    }
    const list = pending.get(dto.sourceId) ?? [];
    list.push(dtoToInput(dto));
    pending.set(dto.sourceId, list);
    if (list.length >= 500) await flush(dto.sourceId);
    if (out.lines % 1000 === 0) opts.onProgress?.(out.lines);
  }
  for (const id of [...pending.keys()]) await flush(id);
  opts.onProgress?.(out.lines);
  return out;
}
