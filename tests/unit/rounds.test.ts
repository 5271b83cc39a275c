import { createRounds } from '../../src/db/rounds';

/** A round that waits until the test lets it finish. */
function gatedRounds(parallel: number) {
  const gates: Array<() => void> = [];
  let started = 0;
  const rounds = createRounds(
    () =>
      new Promise<number>((resolve) => {
        const n = ++started;
        gates.push(() => resolve(n));
      }),
    { parallel, whenStopped: () => -1 },
  );
  return { rounds, gates, started: () => started };
}

describe('rounds of a claim-based worker (src/db/rounds.ts)', () => {
  it('when a round is in progress, then a wake-up starts another at once instead of waiting for it', async () => {
    const { rounds, gates, started } = gatedRounds(4);
    const first = rounds.run();
    rounds.wake();
    expect(started()).toBe(2);
    expect(rounds.running).toBe(2);
    gates[1]();
    gates[0]();
    expect(await first).toBe(1);
    await rounds.idle();
    expect(rounds.running).toBe(0);
  });

  it('when every slot is busy, then the wake-ups in between share one round that starts as soon as a slot frees', async () => {
    const { rounds, gates, started } = gatedRounds(2);
    const a = rounds.run();
    void rounds.run();
    const c = rounds.run();
    const d = rounds.run();
    expect(started()).toBe(2);
    gates[0]();
    expect(await a).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(started()).toBe(3);
    gates[1]();
    gates[2]();
    expect(await c).toBe(3);
    expect(await d).toBe(3);
    await rounds.idle();
    expect(started()).toBe(3);
  });

  it('when stopped, then no round starts and idle() waits for the one in progress', async () => {
    const { rounds, gates, started } = gatedRounds(2);
    void rounds.run();
    rounds.stop();
    expect(await rounds.run()).toBe(-1);
    expect(started()).toBe(1);
    let idle = false;
    const waiting = rounds.idle().then(() => (idle = true));
    await new Promise((r) => setImmediate(r));
    expect(idle).toBe(false);
    gates[0]();
    await waiting;
    expect(idle).toBe(true);
  });

  it('when a woken round fails, then the error goes to onError and later rounds still run', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const rounds = createRounds(
      async () => {
        if (++calls === 1) throw new Error('database gone');
        return calls;
      },
      { onError: (e) => errors.push(e), whenStopped: () => 0 },
    );
    rounds.wake();
    await rounds.idle();
    expect(errors).toHaveLength(1);
    expect(await rounds.run()).toBe(2);
  });
});
