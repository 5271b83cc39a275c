import type { Clock } from '../../src/shared/clock';

/**
 * Real time plus an offset the test moves forward: rows written with the database's now() are due
 * at once, and a retry scheduled hours ahead is reached by `advance()` instead of sleeping.
 */
export class ShiftedClock implements Clock {
  private offsetMs = 0;
  now() {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number) {
    this.offsetMs += ms;
  }
}
