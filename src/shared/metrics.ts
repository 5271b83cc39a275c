import { collectDefaultMetrics, Registry } from 'prom-client';

/** One registry per app instance, with the process's own metrics (memory, CPU, event loop). */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'takedown_' });
  return registry;
}
