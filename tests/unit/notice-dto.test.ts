import { validationErrors } from '../../src/shared/http';
import { NoticeDto } from '../../src/modules/notices/notice.dto';

export const validNotice = () => ({
  name: 'Ada  Lovelace',
  organization: 'Analytical Press Ltd',
  email: 'ada@analytical.example',
  phone: '+44 20 7946 0000',
  address: '12 Marylebone Road, London NW1, United Kingdom',
  country: 'GB',
  role: 'owner',
  workDescription: 'My article "Notes on the Engine", first published on our site.',
  originalUrls: ['https://analytical.example/notes-on-the-engine'],
  infringingUrls: ['http://localhost:3000/items/notes-on-the-engine'],
  goodFaith: true,
  accuracy: true,
  signature: 'ada lovelace',
  claimType: 'copyright',
});

type Case = [string, (n: Record<string, unknown>) => void, string, RegExp];

/** One case per missing or malformed element of SPEC §4 (17 U.S.C. § 512(c)(3)(A)). */
const cases: Case[] = [
  ['(i) signature missing', (n) => delete n.signature, 'signature', /signature/i],
  ['(i) signature not the name', (n) => (n.signature = 'Charles Babbage'), 'signature', /exactly as in the name field/],
  ['(ii) work description missing', (n) => delete n.workDescription, 'workDescription', /Describe the copyrighted work/],
  ['(ii) work description too short', (n) => (n.workDescription = 'mine'), 'workDescription', /10 to 5,000/],
  ['(ii) original URL not a URL', (n) => (n.originalUrls = ['not a url']), 'originalUrls', /contains spaces|not a valid/],
  ['(ii) original URL javascript:', (n) => (n.originalUrls = ['javascript:alert(1)']), 'originalUrls', /http:\/\/ or https:\/\//],
  ['(iii) infringing URLs missing', (n) => delete n.infringingUrls, 'infringingUrls', /URL/],
  ['(iii) infringing URLs empty', (n) => (n.infringingUrls = []), 'infringingUrls', /at least one URL/],
  [
    '(iii) infringing URL ftp:',
    (n) => (n.infringingUrls = ['https://ok.example/a', 'ftp://x.example/b']),
    'infringingUrls',
    /URL 2 must start with http/,
  ],
  [
    '(iii) infringing URL too long',
    (n) => (n.infringingUrls = ['https://x.example/' + 'a'.repeat(2100)]),
    'infringingUrls',
    /longer than 2048/,
  ],
  [
    '(iii) too many infringing URLs',
    (n) => (n.infringingUrls = Array.from({ length: 1001 }, (_, i) => `https://x.example/${i}`)),
    'infringingUrls',
    /at most 1000/,
  ],
  ['(iv) name missing', (n) => delete n.name, 'name', /full name/],
  ['(iv) email malformed', (n) => (n.email = 'ada@'), 'email', /email address/],
  ['(iv) address missing', (n) => delete n.address, 'address', /postal address/],
  ['(iv) phone malformed', (n) => (n.phone = 'call me maybe'), 'phone', /phone number/],
  ['(iv) country not ISO', (n) => (n.country = 'England'), 'country', /ISO 3166/],
  ['(v) good faith not sworn', (n) => (n.goodFaith = false), 'goodFaith', /good-faith statement/],
  ['(vi) accuracy not sworn', (n) => delete n.accuracy, 'accuracy', /penalty of perjury/],
  ['agent without rights owner', (n) => (n.role = 'agent'), 'rightsOwner', /name the rights owner/],
  ['role unknown', (n) => (n.role = 'fan'), 'role', /rights owner or an agent/],
  ['claim type unknown', (n) => (n.claimType = 'patent'), 'claimType', /kind of claim/],
  ['unknown field', (n) => (n.isAdmin = true), 'isAdmin', /not an accepted field/],
  ['name too long', (n) => (n.name = 'x'.repeat(201)), 'name', /at most 200/],
];

describe('notice validation (form and API share one DTO)', () => {
  it('when every element is present, then there is no error', async () => {
    expect(await validationErrors(NoticeDto, validNotice())).toEqual([]);
  });

  it.each(cases)('when %s, then the error is on that field', async (_label, mutate, field, message) => {
    const n: Record<string, unknown> = validNotice();
    mutate(n);
    const errors = await validationErrors(NoticeDto, n);
    const mine = errors.find((e) => e.field === field);
    expect(mine?.message).toMatch(message);
    expect(errors.filter((e) => e.field !== field)).toEqual([]);
  });

  it('when an agent names the rights owner and the signature differs only in case and spacing, then it is valid', async () => {
    const n = { ...validNotice(), role: 'agent', rightsOwner: 'Analytical Press Ltd', signature: '  ADA   lovelace ' };
    expect(await validationErrors(NoticeDto, n)).toEqual([]);
  });

  it('when a relative URL on this site is given, then it is accepted', async () => {
    expect(await validationErrors(NoticeDto, { ...validNotice(), infringingUrls: ['/items/some-article'] })).toEqual([]);
    const bad = await validationErrors(NoticeDto, { ...validNotice(), infringingUrls: ['//evil.example/x'] });
    expect(bad[0]?.field).toBe('infringingUrls');
  });

  it('when the body is not an object, then one clear error', async () => {
    expect(await validationErrors(NoticeDto, ['x'])).toEqual([{ field: '_body', message: 'The request body must be an object.' }]);
  });
});
