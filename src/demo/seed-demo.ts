import type { DataSource } from 'typeorm';
import { withTransaction } from '../db/transaction';
import { record, SYSTEM } from '../modules/audit';
import { ItemInput, sha256, Source, upsertItems } from '../modules/items';

/**
 * Demo content for a first start and `npm run cli -- seed-demo`: three made-up publishers (on the
 * reserved `.example` domain, so no real site is named) with articles written for this project.
 * The sources have no feed URL, so the scheduler leaves them alone.
 */

interface DemoArticle {
  slug: string;
  title: string;
  author: string;
  daysAgo: number;
  paragraphs: string[];
}

interface DemoSource {
  name: string;
  domain: string;
  contact: string;
  rights: { copyright?: string; creativeCommons?: string };
  articles: DemoArticle[];
}

const DEMO: DemoSource[] = [
  {
    name: 'Harbour Light Gazette',
    domain: 'harbourlight.example',
    contact: 'editor@harbourlight.example',
    rights: { copyright: '© Harbour Light Gazette. Shared under its syndication terms.' },
    articles: [
      {
        slug: '2026/03/ferry-timetable-winter',
        title: 'The winter ferry timetable, explained stop by stop',
        author: 'Maren Ostby',
        daysAgo: 2,
        paragraphs: [
          'From the first Monday of November the island ferry drops to five crossings a day, and the early boat now leaves the north pier at 6:40 instead of 6:15. The harbour office says the change follows two winters in which the first crossing ran almost empty while the 8:10 left people standing on the quay.',
          'Commuters who relied on the 6:15 have two options. The 6:40 still connects with the mainland bus, but only just: the bus waits four minutes at most, and the office admits that on rough mornings the crossing can take longer. The alternative is the 5:50 freight sailing, which takes up to twelve foot passengers if they book by eight the evening before.',
          "The last boat back is unchanged at 22:30 on Fridays and Saturdays. On other evenings it now leaves at 21:15, which the parents' association has already asked the council to reconsider before the choir and football seasons start.",
          'Timetables are posted at both piers and in the library. The harbour office will review the schedule in February, and it is asking passengers to write in with the crossings they actually use.',
        ],
      },
      {
        slug: '2026/03/lighthouse-keepers-logbooks',
        title: 'Ninety years of lighthouse logbooks go on display',
        author: 'Tomas Rief',
        daysAgo: 6,
        paragraphs: [
          "The museum on the point has opened the keepers' logbooks of the outer light to visitors for the first time. The thirty-one volumes run from 1921 to the automation of the lamp in 2011 and record, in a dozen different hands, the weather every four hours, every ship that passed, and the occasional complaint about the supply boat.",
          'Volunteers spent two winters transcribing them. Among the entries they point to with most pride is the storm of January 1953, when the keeper noted the barometer falling "faster than I have seen in nineteen years" and then, for three days, simply "lamp lit, all well".',
          'The logbooks are shown in a climate-controlled case, one volume at a time, and a searchable transcription is available on the terminal beside it. The museum is open from Thursday to Sunday through the winter.',
        ],
      },
      {
        slug: '2026/02/harbour-wall-repairs',
        title: 'Harbour wall repairs to finish before the spring tides',
        author: 'Maren Ostby',
        daysAgo: 15,
        paragraphs: [
          'Repairs to the eastern harbour wall, damaged in the autumn gales, should be finished by the middle of March, the engineers told a packed meeting in the community hall on Tuesday. The work has replaced forty metres of the parapet and refilled the voids behind it that had allowed the sea to wash out the core.',
          'Fishing boats will be able to use the inner berths again from next week. The slipway stays closed until the concrete has cured, and the engineers asked people not to walk on the new section even when the barriers are moved for deliveries.',
        ],
      },
    ],
  },
  {
    name: 'Field & Fork',
    domain: 'fieldandfork.example',
    contact: 'hello@fieldandfork.example',
    rights: { creativeCommons: 'https://creativecommons.org/licenses/by-nc/4.0/' },
    articles: [
      {
        slug: 'recipes/barley-risotto-with-leeks',
        title: 'Barley risotto with leeks and a lot of black pepper',
        author: 'Ines Caldeira',
        daysAgo: 1,
        paragraphs: [
          'Pearl barley does what risotto rice does, slowly giving up its starch to the stock, but it keeps a chew that rice never has and it forgives a cook who walks away from the pan. This version uses three leeks, a knob of butter and much more black pepper than seems sensible.',
          'Soften the sliced leeks in butter with a pinch of salt for a good ten minutes, until they collapse. Add 250 g of rinsed barley, stir for a minute, then a glass of dry cider. When it has gone, add hot stock a ladle at a time over forty minutes, stirring now and then rather than constantly.',
          'Finish with a handful of grated hard cheese, the juice of half a lemon and at least a teaspoon of coarsely ground pepper. It should be loose enough to settle flat on the plate. Leftovers fry well the next day as small cakes.',
        ],
      },
      {
        slug: 'growing/saving-tomato-seed',
        title: 'Saving your own tomato seed, without the mould',
        author: 'Ines Caldeira',
        daysAgo: 9,
        paragraphs: [
          'Tomato seed sits in a gel that stops it germinating inside the fruit, and the traditional way to remove it is to let it ferment. Squeeze the seeds and pulp of a ripe fruit from an open-pollinated variety into a jar, add a splash of water, and leave it somewhere warm for two or three days.',
          'A grey film will form on top; that is expected. When the seeds have sunk, pour off the film and pulp, rinse the seeds in a sieve, and spread them on a plate rather than paper, which they stick to. Dry them for a week before storing them in a paper envelope somewhere cool.',
          'Hybrids, marked F1 on the packet, will not come true from saved seed. Everything else will, as long as you grew only one variety or the flowers were not visited by bees carrying pollen from another.',
        ],
      },
    ],
  },
  {
    name: 'The Quiet Byte',
    domain: 'quietbyte.example',
    contact: 'desk@quietbyte.example',
    rights: {},
    articles: [
      {
        slug: 'posts/backups-you-have-tested',
        title: 'The only backup that counts is one you have restored',
        author: 'Dev Anand',
        daysAgo: 3,
        paragraphs: [
          'Most backup failures are discovered on the day they are needed. The copy ran every night, the dashboard was green, and then the restore fails because the archive was encrypted with a key that lived on the machine that just died.',
          "The fix is boring and effective: schedule a restore, not just a backup. Once a month, take last night's copy, restore it to a scratch machine, and check something specific, such as the row count of a table or the hash of a file you know. Write down how long it took. That number is your real recovery time.",
          'Keep at least one copy somewhere the production credentials cannot delete, and keep the decryption key somewhere that does not depend on the systems you are backing up. None of this is new advice, which is exactly why it is so often skipped.',
        ],
      },
      {
        slug: 'posts/small-tools-long-life',
        title: 'Small tools, long life: notes from a decade of shell scripts',
        author: 'Dev Anand',
        daysAgo: 12,
        paragraphs: [
          'The scripts that have survived ten years on my machines share three habits. They fail loudly, with set -euo pipefail at the top. They print what they are about to do before they do anything destructive. And they take their inputs as arguments instead of reading them from variables edited in place.',
          'The ones that died were clever. They parsed the output of commands meant for humans, guessed at paths, or depended on a tool I no longer had installed. Clever is fine for a one-off; a script you keep should be dull enough that you can read it in a hurry.',
        ],
      },
      {
        slug: 'posts/reading-error-messages',
        title: 'Read the whole error message, especially the boring part',
        author: 'Priya Natarajan',
        daysAgo: 20,
        paragraphs: [
          'The first line of an error message is usually a symptom, and the cause sits further down: the file that could not be opened, the port already taken, the permission that was missing. Scrolling to the bottom of a stack trace and reading upwards is a habit worth building.',
          'When you ask someone for help, paste the whole message rather than a summary of it. The detail you thought was noise is very often the answer.',
        ],
      },
    ],
  },
];

/** Creates the demo sources and items unless a source of that name exists. Returns how many items were created. */
export async function seedDemo(deps: { db: DataSource }, now = new Date()): Promise<{ sources: number; items: number }> {
  let sources = 0;
  let items = 0;
  await withTransaction(deps.db, async (tx) => {
    for (const d of DEMO) {
      if (await tx.getRepository(Source).findOneBy({ name: d.name })) continue;
      const source = await tx
        .getRepository(Source)
        .save(
          tx.getRepository(Source).create({ name: d.name, domains: [d.domain], contactEmail: d.contact, status: 'active', feedUrl: null }),
        );
      sources++;
      const inputs: ItemInput[] = d.articles.map((a) => {
        const url = `https://${d.domain}/${a.slug}`;
        const html = a.paragraphs.map((p) => `<p>${p.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</p>`).join('\n');
        return {
          guid: url,
          title: a.title,
          author: a.author,
          originalUrl: url,
          publishedAt: new Date(now.getTime() - a.daysAgo * 86_400_000),
          contentHtml: html,
          rights: d.rights,
          rawSha256: sha256(JSON.stringify(a)),
        };
      });
      const r = await upsertItems(tx, { source, inputs, now, feedUrl: null });
      items += r.created;
      await record(tx, {
        actor: { ...SYSTEM, label: 'demo data' },
        action: 'source.created',
        subject: { type: 'source', id: source.id },
        details: { name: source.name, domains: source.domains, demo: true, items: r.created },
        at: now,
      });
    }
  });
  return { sources, items };
}

/** First start: demo content only on a database that has no source at all. */
export async function seedDemoIfEmpty(deps: { db: DataSource }): Promise<{ sources: number; items: number } | null> {
  const [{ n }] = await deps.db.query('SELECT count(*)::int AS n FROM sources');
  if (n > 0) return null;
  return seedDemo(deps);
}
