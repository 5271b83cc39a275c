import request from 'supertest';
import type { Express } from 'express';
import { DataSource } from 'typeorm';
import { withTransaction } from '../../src/db/transaction';
import { SYSTEM } from '../../src/modules/audit';
import { removeItems } from '../../src/modules/items';
import { lockByReference, targetsOf } from '../../src/modules/notices';

/**
 * A FIXTURE, not the product's approval: the review issue builds `approveNotice`. Until then, tests
 * that need an approved notice lock it and, in one transaction, remove its matched items through
 * the registry's `removeItems`, mark those targets `removed` and set the status `approved` —
 * the same rows the real approval leaves behind.
 */
export async function approveForTest(db: DataSource, reference: string, at: Date): Promise<void> {
  await withTransaction(db, async (tx) => {
    const notice = await lockByReference(tx, reference);
    const itemIds = (await targetsOf(tx, notice.id)).filter((t) => t.itemId).map((t) => t.itemId!);
    await removeItems(tx, {
      itemIds, noticeId: notice.id, reference: notice.reference, claimant: notice.organization,
      legalBasis: '17 U.S.C. § 512(c) (copyright)', actor: SYSTEM, at,
    });
    await tx.query(`UPDATE notice_targets SET outcome = 'removed' WHERE notice_id = $1 AND item_id IS NOT NULL`, [notice.id]);
    await tx.query(`UPDATE notices SET status = 'approved', decision = 'approve', decided_at = $2 WHERE id = $1`, [notice.id, at]);
  });
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
  const res = await request(app).post('/api/v1/notices').send({ ...COMPLAINANT, infringingUrls });
  if (res.status !== 201) throw new Error(`notice not accepted: ${res.status} ${JSON.stringify(res.body)}`);
  return { reference: res.body.reference, statusUrl: res.body.statusUrl };
}

/** Submitted through the API, then approved by the fixture above. */
export async function approvedNotice(app: Express, db: DataSource, infringingUrls: string[], at: Date) {
  const n = await submitNoticeFor(app, infringingUrls);
  await approveForTest(db, n.reference, at);
  return n;
}
