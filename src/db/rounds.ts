/**
 * Rounds of a claim-based worker (edge purges, inbound parsing; see leases.ts): how a wake-up (a
 * NOTIFY at commit, a kick after a message is stored, a poll tick) turns into work.
 *
 * A wake-up never waits behind a round in progress. The claims make that safe: a round claims with
 * `FOR UPDATE SKIP LOCKED` under this process's lease, and a row claimed by a live instance — this
 * one included — is not claimable, so two rounds of one process take disjoint rows. So a wake-up
 * during a round starts a second round at once, which claims only what the first did not: the new
 * row. Up to `parallel` rounds run at once (default 4); past that, one more round starts as soon as
 * one ends (all wake-ups in between share it), so no wake-up is lost.
 *
 * Why (issue 18): the purge worker used to run one drain at a time and fold a wake-up into the
 * drain in progress ("go round once more"). A round whose edge did not answer waited for its 5 s
 * timeout, and the removal committed meanwhile waited with it: 3.9–4.0 s from approval to the 451
 * at the edge instead of a round trip. A round that is slow for any reason (an endpoint timing out,
 * a large message being parsed) must not hold back the next row.
 *
 *   const rounds = createRounds(() => drainOnce(), { onError: (err) => logger.error({ err }, '…') });
 *   pg.on('notification', () => rounds.wake());   // fire and forget
 *   { name: 'x', everyMs: 1_000, run: () => rounds.run() }   // the poll: same rule, awaited
 *   rounds.stop(); await rounds.idle();           // at shutdown
 */
export interface Rounds<R> {
  /** Starts a round now (or, when `parallel` are running, as soon as one ends) and resolves with its result. */
  run(): Promise<R>;
  /** `run()` without waiting: errors go to `onError`. */
  wake(): void;
  /** No new rounds after this (`run()` resolves with `whenStopped()`). */
  stop(): void;
  /** Resolves when no round is running or waiting to run. */
  idle(): Promise<void>;
  /** Rounds running now. */
  readonly running: number;
}

export interface RoundsOptions<R> {
  /** Rounds at once in this process (default 4). */
  parallel?: number;
  onError?: (err: unknown) => void;
  /** What `run()` resolves with once stopped. */
  whenStopped: () => R;
}

export function createRounds<R>(round: () => Promise<R>, opts: RoundsOptions<R>): Rounds<R> {
  const parallel = Math.max(1, opts.parallel ?? 4);
  const inFlight = new Set<Promise<R>>();
  let waiting: Promise<R> | null = null;
  let stopped = false;

  function start(): Promise<R> {
    const p: Promise<R> = round().finally(() => inFlight.delete(p));
    inFlight.add(p);
    return p;
  }

  function run(): Promise<R> {
    if (stopped) return Promise.resolve(opts.whenStopped());
    if (inFlight.size < parallel) return start();
    // Every slot busy: one more round once one ends; every wake-up until then shares it.
    waiting ??= Promise.race([...inFlight])
      .catch(() => undefined)
      .then(() => {
        waiting = null;
        return run();
      });
    return waiting;
  }

  return {
    run,
    wake() {
      run().catch((err) => opts.onError?.(err));
    },
    stop() {
      stopped = true;
    },
    async idle() {
      while (inFlight.size || waiting) await Promise.allSettled([...inFlight, ...(waiting ? [waiting] : [])]);
    },
    get running() {
      return inFlight.size;
    },
  };
}
