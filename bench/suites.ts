import { auditSuite } from './audit';
import { itemsSuite } from './items';
import type { BenchSuite } from './lib';
import { mailSuite } from './mail';

/** Every benchmark suite, in the order they run. Each issue adds its own. */
export const suites: BenchSuite[] = [itemsSuite, mailSuite, auditSuite];
