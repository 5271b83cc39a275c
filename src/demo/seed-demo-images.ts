import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AppDeps } from '../deps';
import { withTransaction } from '../db/transaction';
import { validateBody } from '../shared/http';
import { publicDir } from '../shared/paths';
import { analyseImage, recordImageFacts } from '../modules/images';
import { ItemInput, sha256, Source, upsertItems } from '../modules/items';
import { NoticeDto, submitNotice } from '../modules/notices';
import { approveNotice, claimNotice } from '../modules/review';

/**
 * The image story for a newcomer (SPEC §19, issue 20), after the demo notices, through the
 * product's own use cases: an article of the Harbour Light Gazette carries a photo
 * (`public/demo/harbour-at-dawn.jpg`, served by us at /static/demo/); a photo agency's notice names
 * the photo; a moderator approves it, so the article stays up with a placeholder where the photo
 * was; then the Tidewater Weekly republishes it in another article, resized and recompressed, and
 * the image staydown removes it from that article at import.
 *
 * The demo's photos are on our own host, which the SSRF-guarded fetcher refuses (loopback), so the
 * seed hands the image job the bytes it read from disk (`recordImageFacts`): the same storing, bank
 * and matching code the job runs after a download.
 */
export type DemoImageDeps = Pick<AppDeps, 'db' | 'clock' | 'config' | 'sessionSecret' | 'logger'>;

const DIR = path.join(publicDir, 'demo');
const PHOTO = 'harbour-at-dawn.jpg';
const COPY = 'harbour-at-dawn-recompressed.jpg';
const SYSTEM_CONTEXT = { ip: null, requestId: 'demo-seed' };

export async function seedDemoImages(deps: DemoImageDeps): Promise<{ article: string; notice: string; copy: string } | null> {
  const [admin] = await deps.db.query(`SELECT id, email FROM users WHERE role = 'admin' AND active ORDER BY created_at LIMIT 1`);
  const sources: Source[] = await deps.db.getRepository(Source).find({ order: { createdAt: 'ASC' }, take: 2 });
  if (!admin || sources.length < 2) return null;
  const base = deps.config.publicBaseUrl;
  const photoUrl = `${base}/static/demo/${PHOTO}`;
  const article = await importArticle(deps, sources[0], {
    url: 'https://harbourlight.example/2026/03/harbour-at-dawn',
    title: 'The harbour at dawn, before the fishing fleet goes out',
    img: photoUrl,
  });
  await hashFromDisk(deps, article.imageId, PHOTO);

  const dto = await validateBody(NoticeDto, {
    name: 'Ines Carvalho',
    organization: 'Atlantic Picture Agency',
    email: 'rights@atlantic-pictures.example',
    address: '3 Rua do Porto, Lisbon',
    country: 'PT',
    role: 'agent',
    rightsOwner: 'Atlantic Picture Agency',
    workDescription: 'Our photograph "Harbour at dawn" (licensed to subscribers only), used without a licence in the article.',
    originalUrls: ['https://atlantic-pictures.example/photos/harbour-at-dawn'],
    infringingUrls: [photoUrl],
    goodFaith: true,
    accuracy: true,
    signature: 'Ines Carvalho',
  });
  const { answer } = await submitNotice(deps, { dto, channel: 'form', context: SYSTEM_CONTEXT });
  const actor = { id: admin.id, email: admin.email, role: 'admin' as const };
  await claimNotice(deps, { reference: answer.reference, actor, context: SYSTEM_CONTEXT });
  await approveNotice(deps, {
    reference: answer.reference,
    actor,
    reason: 'The photograph is the agency’s; the article may stay.',
    context: SYSTEM_CONTEXT,
  });

  const copy = await importArticle(deps, sources[1], {
    url: `https://${sources[1].domains[0]}/2026/03/harbour-fleet`,
    title: 'Fishing fleet prepares for the spring season',
    img: `${base}/static/demo/${COPY}`,
  });
  await hashFromDisk(deps, copy.imageId, COPY);
  return { article: article.slug, notice: answer.reference, copy: copy.slug };
}

async function importArticle(deps: DemoImageDeps, source: Source, a: { url: string; title: string; img: string }) {
  const now = deps.clock.now();
  const input: ItemInput = {
    guid: a.url,
    title: a.title,
    author: 'Maren Ostby',
    originalUrl: a.url,
    publishedAt: new Date(now.getTime() - 86_400_000),
    contentHtml: `<p>The boats leave the inner basin an hour before sunrise from March, when the spring season opens.</p>
<p><img src="${a.img}" alt="Fishing boats in the harbour at dawn"></p>
<p>Crews say the catch quotas agreed in February leave room for two extra trips a week, if the weather holds.</p>`,
    rights: {},
    rawSha256: sha256(a.url + a.title),
  };
  const r = await withTransaction(deps.db, (tx) => upsertItems(tx, { source, inputs: [input], now, feedUrl: null }));
  const [row] = await deps.db.query(`SELECT i.slug, g.id AS image_id FROM items i JOIN item_images g ON g.item_id = i.id WHERE i.id = $1`, [
    r.createdIds[0],
  ]);
  return { slug: row.slug as string, imageId: row.image_id as string };
}

async function hashFromDisk(deps: DemoImageDeps, imageId: string, file: string) {
  const facts = await analyseImage(await readFile(path.join(DIR, file)));
  await recordImageFacts(deps, { id: imageId, claimedBy: null }, facts);
}
