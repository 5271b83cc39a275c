import request from 'supertest';
import type { Express } from 'express';
import { DataSource } from 'typeorm';
import { approveNotice, claimNotice } from '../../src/modules/review';
import { testConfig } from './context';
import { createStaff } from './staff';

/**
 * An approved notice through the product's own review use cases: a moderator claims it and
 * approves every matched URL at `at` (the registry removes the items, targets become `removed`).
 */
export async function approveForTest(db: DataSource, reference: string, at: Date): Promise<void> {
  const mod = await createStaff(db, { role: 'moderator' });
  const deps = { db, clock: { now: () => at }, config: testConfig() };
  const actor = { id: mod.id, email: mod.email, role: 'moderator' as const };
  await claimNotice(deps, { reference, actor });
  await approveNotice(deps, { reference, actor, reason: "The URLs copy the complainant's article." });
}

export const COMPLAINANT = {
  name: 'Ada Lovelace',
  organization: 'Analytical Press Ltd',
  email: 'ada@analytical.example',
  address: '12 Marylebone Road, London, United Kingdom',
  country: 'GB',
  role: 'owner',
  workDescription: 'My article "Notes on the Engine", first published on our site.',
  goodFaith: true,
  accuracy: true,
  signature: 'Ada Lovelace',
};

/** A notice submitted through the real public API; returns its reference and status URL. */
export async function submitNoticeFor(app: Express, infringingUrls: string[]): Promise<{ reference: string; statusUrl: string }> {
  const res = await request(app)
    .post('/api/v1/notices')
    .send({ ...COMPLAINANT, infringingUrls });
  if (res.status !== 201) throw new Error(`notice not accepted: ${res.status} ${JSON.stringify(res.body)}`);
  return { reference: res.body.reference, statusUrl: res.body.statusUrl };
}

/** Submitted through the API, then claimed and approved by a moderator. */
export async function approvedNotice(app: Express, db: DataSource, infringingUrls: string[], at: Date) {
  const n = await submitNoticeFor(app, infringingUrls);
  await approveForTest(db, n.reference, at);
  return n;
}
