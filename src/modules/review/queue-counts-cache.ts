import type { AppDeps } from '../../deps';
import { queueCounts } from './queue.queries';

type Counts = Awaited<ReturnType<typeof queueCounts>>;

/**
 * The queue's counts (per status, overdue) read every open notice: ~100-200 ms with 100,000 of
 * them, against ~5 ms for a keyset page. Shown on every queue page, API page and metrics scrape,
 * they are shared per instance for `ttlMs` (2 s; 0 in tests, where they are exact): a header count
 * may lag a change by two seconds, the rows never do.
 */
export function queueCountsCache(deps: Pick<AppDeps, 'db' | 'clock' | 'config'>, ttlMs = deps.config.env === 'test' ? 0 : 2000) {
  let value: { at: number; p: Promise<Counts> } | null = null;
  return (): Promise<Counts> => {
    const now = Date.now();
    if (value && now - value.at < ttlMs) return value.p;
    const p = queueCounts(deps.db.manager, deps.clock.now());
    value = { at: now, p };
    p.catch(() => (value = null));
    return p;
  };
}
