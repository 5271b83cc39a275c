import type { Logger } from 'pino';

export interface Job {
  name: string;
  everyMs: number;
  run(): Promise<unknown>;
}

/**
 * Runs background jobs on an interval, never two runs of one job at once in this process.
 * Jobs that must run once across instances take a PostgreSQL advisory lock or SKIP LOCKED rows
 * themselves. `stop()` waits for runs in progress.
 */
export function startJobs(jobs: Job[], logger: Logger): { stop(): Promise<void> } {
  let stopping = false;
  const running = new Set<Promise<unknown>>();
  const timers = jobs.map((job) => {
    let busy = false;
    const tick = () => {
      if (busy || stopping) return;
      busy = true;
      const p = job
        .run()
        .catch((err) => logger.error({ err, job: job.name }, 'background job failed'))
        .finally(() => {
          busy = false;
          running.delete(p);
        });
      running.add(p);
    };
    const t = setInterval(tick, job.everyMs);
    setImmediate(tick);
    return t;
  });
  return {
    async stop() {
      stopping = true;
      timers.forEach(clearInterval);
      await Promise.allSettled([...running]);
    },
  };
}
