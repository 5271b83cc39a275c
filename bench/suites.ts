import { auditSuite } from './audit';
import { batchesSuite } from './batches';
import { edgeSuite } from './edge';
import { importsSuite } from './imports';
import { inboundParseSuite } from './inbound-parse';
import { inboundSuite } from './inbound';
import { intakeSuite } from './intake';
import { itemsSuite } from './items';
import type { BenchSuite } from './lib';
import { mailSuite } from './mail';
import { dashboardSuite, liveSuite } from './moderators';
import { reviewSuite } from './review';
import { staydownSuite } from './staydown';

/** Every benchmark suite, in the order they run. Each issue adds its own. */
export const suites: BenchSuite[] = [
  itemsSuite,
  intakeSuite,
  reviewSuite,
  mailSuite,
  auditSuite,
  edgeSuite,
  importsSuite,
  staydownSuite,
  inboundParseSuite,
  inboundSuite,
  batchesSuite,
  liveSuite,
  dashboardSuite,
];
