import request from 'supertest';
import { plainToInstance } from 'class-transformer';
import { withTransaction } from '../../src/db/transaction';
import { SYSTEM } from '../../src/modules/audit';
import { User } from '../../src/modules/auth';
import { addItem, Item, Source } from '../../src/modules/items';
import { CreateItemDto } from '../../src/modules/items/items.dto';
import { createTestContext, TestContext, truncateAll } from '../support/context';
import { makeSource } from '../support/factories';
import { startFeedServer } from '../support/feed-server';
import { createStaff, signedInAgent } from '../support/staff';

type Server = Awaited<ReturnType<typeof startFeedServer>>;

const OURS = '<p>alpha beta gamma delta epsilon zeta eta theta iota kappa</p>';
// The claimed original: the same passage with its last word changed, inside a page with navigation.
const ORIGINAL_PAGE =
  '<!doctype html><html><head><title>Original</title><script>var x = 1;</script></head><body><nav>Home About</nav>' +
  '<article><p>alpha beta gamma delta epsilon zeta eta theta iota lambda</p></article><footer>© Rights Org</footer></body></html>';

/** Evidence side by side (SPEC §15): the claimed original fetched through the SSRF-guarded fetcher. */
describe('evidence side by side', () => {
  let t: TestContext;
  let guarded: TestContext;
  let server: Server;
  let source: Source;
  let item: Item;
  let mod: User;

  const makeItem = async (ctx: TestContext, src: Source, slug: string, content: string) => {
    const dto = plainToInstance(CreateItemDto, {
      sourceId: src.id,
      title: `Story ${slug}`,
      originalUrl: `https://harbourgazette.example/${slug}`,
      content,
    });
    return (await withTransaction(ctx.db, (tx) => addItem(tx, { dto, actor: SYSTEM, now: new Date() }))).item;
  };
  const submit = async (ctx: TestContext, it: Item, originalUrls: string[], email = 'ada@analytical.example') => {
    const res = await request(ctx.app)
      .post('/api/v1/notices')
      .send({
        name: 'Ada Lovelace',
        organization: 'Analytical Press',
        email,
        address: '12 Marylebone Road, London',
        country: 'GB',
        role: 'owner',
        workDescription: 'My article.',
        originalUrls,
        infringingUrls: [`http://localhost:3000/items/${it.slug}`],
        goodFaith: true,
        accuracy: true,
        signature: 'Ada Lovelace',
      })
      .expect(201);
    return res.body.reference as string;
  };

  beforeAll(async () => {
    // The test configuration allows loopback feeds (ALLOW_PRIVATE_FEEDS=true) so local servers can stand in for the web…
    t = await createTestContext({ env: { INTAKE_PER_HOUR: '10000', SENDER_BURST: '10000', EVIDENCE_MAX_BYTES: '65536' } });
    // …and this instance runs with the production default: no private, loopback or link-local address.
    guarded = await createTestContext({ env: { ALLOW_PRIVATE_FEEDS: 'false', INTAKE_PER_HOUR: '10000', SENDER_BURST: '10000' } });
    server = await startFeedServer();
  });
  afterAll(async () => {
    await server.close();
    await t.close();
    await guarded.close();
  });
  beforeEach(async () => {
    await truncateAll(t.db);
    server.routes.clear();
    server.hits.clear();
    source = await makeSource(t.db, { name: 'Harbour Gazette', domains: ['harbourgazette.example'] });
    item = await makeItem(t, source, 'story-1', OURS);
    mod = await createStaff(t.db, { role: 'moderator' });
  });

  it('when a moderator opens the evidence of a notice, then our copy and the claimed original are side by side with their similarity and the differing words marked; a second look uses the cache', async () => {
    server.routes.set('/original', (_req, res) => {
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end(ORIGINAL_PAGE);
    });
    const reference = await submit(t, item, [`${server.url}/original`]);
    const agent = await signedInAgent(t.app, mod.email);
    const page = await agent.get(`/notices/${reference}/evidence`).expect(200);
    // 9 words in common of 10 + 10: 2 × 9 ÷ 20 = 90%.
    expect(page.text).toContain('Similarity: 90%');
    expect(page.text).toContain('<mark class="differs" title="not in the claimed original">kappa</mark>');
    expect(page.text).toContain('<mark class="differs" title="not in our copy">lambda</mark>');
    // The page's navigation, script and footer are not the article.
    expect(page.text).not.toContain('Home About');
    expect(page.text).not.toContain('var x');
    expect(page.headers['cache-control']).toBe('no-store');
    await agent.get(`/notices/${reference}/evidence`).expect(200);
    expect(server.hits.get('/original')).toBe(1);
  });

  it('when the claimed original is on a private address, then it is refused without a request; a huge page is refused at the size cap', async () => {
    // A guarded instance (ALLOW_PRIVATE_FEEDS=false) refuses 127.0.0.1.
    server.routes.set('/private', (_req, res) => res.end('<p>secret</p>'));
    await truncateAll(guarded.db);
    const gSource = await makeSource(guarded.db, { name: 'Harbour Gazette', domains: ['harbourgazette.example'] });
    const gItem = await makeItem(guarded, gSource, 'story-1', OURS);
    const gMod = await createStaff(guarded.db, { role: 'moderator' });
    const ref1 = await submit(guarded, gItem, [`${server.url}/private`]);
    const refused = await (await signedInAgent(guarded.app, gMod.email)).get(`/notices/${ref1}/evidence`).expect(200);
    expect(refused.text).toMatch(/The original could not be fetched: refused: 127\.0\.0\.1 is a private, loopback or link-local address/);
    expect(refused.text).not.toContain('secret');
    expect(server.hits.get('/private')).toBeUndefined();

    // A page larger than EVIDENCE_MAX_BYTES (64 KiB here), sent without a length, is cut off while it streams.
    let sent = 0;
    server.routes.set('/huge', (_req, res) => {
      res.setHeader('Content-Type', 'text/html');
      const chunk = '<p>' + 'word '.repeat(2000) + '</p>';
      const more = () => {
        while (sent < 5_000_000) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      res.on('error', () => undefined);
      more();
    });
    const ref2 = await submit(t, item, [`${server.url}/huge`]);
    const huge = await (await signedInAgent(t.app, mod.email)).get(`/notices/${ref2}/evidence`).expect(200);
    expect(huge.text).toMatch(/The original could not be fetched: the page is too large \(more than 65536 bytes\)/);
    expect(huge.text).not.toContain('Similarity:');
    expect(sent).toBeLessThan(5_000_000);
  });

  it('when other notices name the same item, source or come from the same claimant, then the evidence page lists them with their outcomes', async () => {
    const other = await makeItem(t, source, 'story-2', '<p>Another story.</p>');
    const elsewhere = await makeItem(t, await makeSource(t.db, { name: 'Other Press', domains: ['other.example'] }), 'story-3', '<p>x</p>');
    const sameItem = await submit(t, item, [], 'someone@else.example');
    // Decided earlier (rows set directly: this test is about what the page reads).
    await t.db.query(`UPDATE notices SET status = 'rejected', decision = 'rejected' WHERE reference = $1`, [sameItem]);
    await t.db.query(`UPDATE notice_targets SET outcome = 'kept' WHERE notice_id = (SELECT id FROM notices WHERE reference = $1)`, [
      sameItem,
    ]);
    const sameSource = await submit(t, other, [], 'third@party.example');
    const sameClaimant = await submit(t, elsewhere, []);
    const unrelated = await submit(t, elsewhere, [], 'nobody@related.example');
    const reference = await submit(t, item, []);
    const page = await (await signedInAgent(t.app, mod.email)).get(`/notices/${reference}/evidence`).expect(200);
    const section = (title: string) => page.text.split(`<h2>${title}</h2>`)[1].split('<h2>')[0];
    const itemRows = section('Other notices about the same items');
    expect(itemRows).toContain(sameItem);
    expect(itemRows).toMatch(
      new RegExp(`${sameItem}</a></td><td>[^<]*</td><td><time[^>]*>[^<]*</time></td><td>rejected</td><td>rejected</td><td>kept</td>`),
    );
    expect(itemRows).not.toContain(sameSource);
    const sourceRows = section('Other notices about the same sources');
    expect(sourceRows).toContain(sameItem);
    expect(sourceRows).toContain(sameSource);
    expect(sourceRows).not.toContain(sameClaimant);
    const claimantRows = section('Other notices from the same claimant');
    expect(claimantRows).toContain(sameClaimant);
    expect(claimantRows).not.toContain(unrelated);
    expect(page.text).toContain('The notice names no original URL');
  });

  it('when nobody is signed in, then the evidence page sends them to the login page', async () => {
    const reference = await submit(t, item, []);
    const res = await request(t.app).get(`/notices/${reference}/evidence`).expect(303);
    expect(res.headers.location).toBe(`/login?next=${encodeURIComponent(`/notices/${reference}/evidence`)}`);
  });
});
