import type { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { Config } from './config';
import type { Clock } from './shared/clock';
import type { Logger } from './shared/logger';

/**
 * What the app, the use cases and the workers are built from. `container.ts` wires it by hand (no DI
 * framework); modules import only this type, never the container, so no module depends on the
 * composition root (which imports every entity).
 */
export interface AppDeps {
  config: Config;
  logger: Logger;
  db: DataSource;
  clock: Clock;
  metrics: Registry;
  sessionSecret: string;
}
