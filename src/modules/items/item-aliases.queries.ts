import type { EntityManager } from 'typeorm';
import { normaliseUrl } from '../../shared/url';
import type { AliasKind } from './item-alias.entity';

/**
 * Writes item aliases (table `item_aliases`, one row per normalised address, unique across items).
 * An address that is already another item's original URL or alias stays with that item; an
 * address already recorded for this item keeps its first kind. One statement, in the caller's transaction.
 */
export async function saveAliases(tx: EntityManager, aliases: { itemId: string; url: string; kind: AliasKind }[]): Promise<void> {
  const rows = new Map<string, { url_normalised: string; item_id: string; kind: AliasKind; url: string }>();
  for (const a of aliases) {
    const n = a.url ? normaliseUrl(a.url) : null;
    if (!n || n.length > 2048 || rows.has(n)) continue;
    rows.set(n, { url_normalised: n, item_id: a.itemId, kind: a.kind, url: a.url.trim() });
  }
  if (!rows.size) return;
  await tx.query(
    `INSERT INTO item_aliases (url_normalised, item_id, kind, url)
     SELECT v.url_normalised, v.item_id, v.kind, v.url
       FROM jsonb_to_recordset($1::jsonb) AS v(url_normalised text, item_id uuid, kind text, url text)
      WHERE NOT EXISTS (SELECT 1 FROM items o WHERE o.original_url_normalised = v.url_normalised AND o.id <> v.item_id)
     ON CONFLICT (url_normalised) DO NOTHING`,
    [JSON.stringify([...rows.values()])],
  );
}
