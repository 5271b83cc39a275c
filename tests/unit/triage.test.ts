import { computeFlags, registrableDomain, TriageInput } from '../../src/modules/notices/triage';

const item = (over: Partial<NonNullable<TriageInput['targets'][0]['item']>> = {}) => ({
  status: 'published',
  originalUrl: 'https://www.harbourgazette.example/2026/05/tides',
  sourceName: 'Harbour Gazette',
  sourceDomains: ['harbourgazette.example'],
  firstFetchedAt: new Date('2026-05-02T08:00:00Z'),
  ...over,
});

const base = (over: Partial<TriageInput> = {}): TriageInput => ({
  claimType: 'copyright',
  email: 'legal@harbourgazette.example',
  originalUrls: ['https://harbourgazette.example/2026/05/tides'],
  workPublishedAt: null,
  targets: [{ url: 'http://localhost:3000/items/tides', item: item() }],
  duplicateOf: [],
  recentFromSender: 0,
  senderBurst: 10,
  ...over,
});

const codes = (i: TriageInput) => computeFlags(i).map((f) => f.code);

describe('triage flags', () => {
  it('when the real publisher claims its own article, then nothing is flagged', () => {
    expect(codes(base())).toEqual([]);
  });

  it('when URLs are not on this site, then not_on_site says how many', () => {
    const flags = computeFlags(
      base({
        targets: [
          { url: 'https://elsewhere.example/a', item: null },
          { url: 'x', item: item() },
        ],
      }),
    );
    expect(flags.find((f) => f.code === 'not_on_site')?.reason).toBe('1 of 2 URLs are not on this site.');
    const none = computeFlags(base({ targets: [{ url: 'https://elsewhere.example/a', item: null }] }));
    expect(none.find((f) => f.code === 'not_on_site')?.reason).toBe('None of the URLs are on this site.');
  });

  it('when an item is already removed, then already_removed', () => {
    expect(codes(base({ targets: [{ url: 'x', item: item({ status: 'removed', removedReference: 'TD-000001' }) }] }))).toContain(
      'already_removed',
    );
  });

  it('when an open notice names the same URL, then duplicate with its reference', () => {
    const f = computeFlags(base({ duplicateOf: ['TD-000007'] })).find((x) => x.code === 'duplicate');
    expect(f?.reason).toContain('TD-000007');
  });

  it('when the claimed original is on another domain than our source, then source_mismatch (backdating scam pattern)', () => {
    const i = base({ originalUrls: ['https://copycat-blog.example/tides'], email: 'me@copycat-blog.example' });
    expect(codes(i)).toEqual(['source_mismatch']);
  });

  it('when the work is claimed published after we fetched our copy, then backdated', () => {
    expect(codes(base({ workPublishedAt: '2026-06-01' }))).toEqual(['backdated']);
    expect(codes(base({ workPublishedAt: '2026-05-01' }))).toEqual([]);
  });

  it('when the email domain is unrelated to the claimed work, then email_domain_unrelated', () => {
    expect(codes(base({ email: 'someone@mailbox.example' }))).toEqual(['email_domain_unrelated']);
    expect(codes(base({ email: 'legal@news.harbourgazette.example' }))).toEqual([]);
  });

  it('when a sender sent many notices in the last hour, then sender_burst', () => {
    expect(codes(base({ recentFromSender: 10 }))).toEqual(['sender_burst']);
    expect(codes(base({ recentFromSender: 9 }))).toEqual([]);
  });

  it('when the claim is not about copyright, then it is marked as such', () => {
    expect(codes(base({ claimType: 'defamation' }))).toEqual(['non_copyright']);
  });

  it('when domains have subdomains or public suffixes, then the registrable domain is compared', () => {
    expect(registrableDomain('https://www.news.bbc.co.uk/x')).toBe('bbc.co.uk');
    expect(registrableDomain('WWW.Example.com')).toBe('example.com');
  });
});
