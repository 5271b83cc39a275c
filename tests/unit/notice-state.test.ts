import { AppError } from '../../src/shared/errors';
import {
  allowedEvents,
  FINAL_STATUSES,
  isFinal,
  NOTICE_EVENTS,
  NOTICE_STATUSES,
  NoticeEvent,
  NoticeStatus,
  nextStatus,
  transition,
} from '../../src/modules/notices/notice-state';

/** SPEC §3, written out independently of the implementation's table. */
const LEGAL: Record<string, NoticeStatus> = {
  'unverified verify': 'pending',
  'unverified withdraw': 'withdrawn',
  'unverified expire': 'withdrawn',
  'pending claim': 'in_review',
  'pending withdraw': 'withdrawn',
  'pending spam': 'spam',
  'in_review approve': 'approved',
  'in_review reject': 'rejected',
  'in_review request_info': 'needs_info',
  'in_review spam': 'spam',
  'in_review release': 'pending',
  'needs_info answer': 'pending',
  'needs_info withdraw': 'withdrawn',
  'needs_info reject': 'rejected',
  'approved counter': 'countered',
  'countered restore': 'restored',
  'countered uphold': 'upheld',
  // SPEC §18: a complaint decided for the complainant reverses the decision.
  'rejected reopen': 'pending',
  'approved reverse': 'restored',
  // SPEC §12: an emailed notice missing required elements.
  'incomplete complete': 'pending',
  'incomplete withdraw': 'withdrawn',
  'incomplete expire': 'withdrawn',
  'incomplete spam': 'spam',
};

describe('notice state machine', () => {
  const cases: [NoticeStatus, NoticeEvent][] = NOTICE_STATUSES.flatMap((s) =>
    NOTICE_EVENTS.map((e) => [s, e] as [NoticeStatus, NoticeEvent]),
  );

  it.each(cases)('when a %s notice gets %s, then it moves exactly as SPEC §3 says (or is refused with 409)', (status, event) => {
    const expected = LEGAL[`${status} ${event}`];
    if (expected) {
      expect(transition(status, event)).toBe(expected);
    } else {
      expect(nextStatus(status, event)).toBeUndefined();
      let err: unknown;
      try {
        transition(status, event);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).status).toBe(409);
      expect((err as AppError).code).toBe('NOTICE.INVALID_TRANSITION');
    }
  });

  it('when the final statuses are listed, then they are exactly those of SPEC §3', () => {
    expect([...FINAL_STATUSES].sort()).toEqual(['rejected', 'restored', 'spam', 'upheld', 'withdrawn']);
    for (const s of FINAL_STATUSES) {
      expect(isFinal(s)).toBe(true);
      expect(allowedEvents(s)).toEqual([]);
    }
  });

  it('when the legal moves are counted, then there are as many as the spec lists', () => {
    const legal = cases.filter(([s, e]) => nextStatus(s, e) !== undefined);
    expect(legal).toHaveLength(Object.keys(LEGAL).length);
  });
});
