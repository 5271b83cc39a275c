import { plainToInstance } from 'class-transformer';
import { DataSource } from 'typeorm';
import { withTransaction } from '../../src/db/transaction';
import { SYSTEM } from '../../src/modules/audit';
import { addItem, createSource, Item, Source } from '../../src/modules/items';
import { CreateItemDto } from '../../src/modules/items/items.dto';

let n = 0;

/** A source through the registry's own use case. */
export function makeSource(db: DataSource, over: { name?: string; domains?: string[]; contactEmail?: string } = {}): Promise<Source> {
  n += 1;
  return withTransaction(db, (tx) =>
    createSource(tx, {
      name: over.name ?? `Harbour Gazette ${n}`,
      domains: over.domains ?? [`harbour${n}.example`],
      contactEmail: over.contactEmail ?? `editor@harbour${n}.example`,
      actor: SYSTEM,
      at: new Date(),
    }),
  );
}

/** A published item of that source, added as the API adds one. */
export async function makeItem(
  db: DataSource,
  source: Source,
  over: { title?: string; originalUrl?: string; at?: Date } = {},
): Promise<Item> {
  n += 1;
  const dto = plainToInstance(CreateItemDto, {
    sourceId: source.id,
    title: over.title ?? `Tides of the harbour, part ${n}`,
    originalUrl: over.originalUrl ?? `https://${source.domains[0]}/2026/05/article-${n}`,
    content: `<p>Article ${n} about the harbour.</p>`,
  });
  const { item } = await withTransaction(db, (tx) => addItem(tx, { dto, actor: SYSTEM, now: over.at ?? new Date() }));
  return item;
}
