import { canonicalJson, eventHash, GENESIS_HASH } from '../../src/modules/audit/hash-chain';

const row = {
  sequence: '1',
  occurred_at: new Date('2026-11-30T10:00:00.000Z'),
  actor_type: 'system',
  actor_id: null,
  actor_label: 'system',
  action: 'user.created',
  subject_type: 'user',
  subject_id: 'u1',
  details: { b: 1, a: { d: [1, 2], c: 'x' } },
  ip: null,
  request_id: null,
};

describe('audit hash chain', () => {
  it('when keys come in another order, then the canonical form and the hash are the same', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: 'x' } })).toBe(canonicalJson({ a: { c: 'x', d: [1, 2] }, b: 1 }));
    expect(eventHash(GENESIS_HASH, row)).toBe(eventHash(GENESIS_HASH, { ...row, details: { a: { c: 'x', d: [1, 2] }, b: 1 } }));
  });

  it('when any covered field or the previous hash changes, then the hash changes', () => {
    const h = eventHash(GENESIS_HASH, row);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(eventHash('1'.repeat(64), row)).not.toBe(h);
    expect(eventHash(GENESIS_HASH, { ...row, sequence: '2' })).not.toBe(h);
    expect(eventHash(GENESIS_HASH, { ...row, action: 'user.deleted' })).not.toBe(h);
    expect(eventHash(GENESIS_HASH, { ...row, details: { b: 2, a: { d: [1, 2], c: 'x' } } })).not.toBe(h);
    expect(eventHash(GENESIS_HASH, { ...row, occurred_at: new Date('2026-11-30T10:00:00.001Z') })).not.toBe(h);
  });
});
