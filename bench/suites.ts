import { auditSuite } from './audit';
import { bulkSuite } from './bulk';
import { batchesSuite } from './batches';
import { edgeSuite } from './edge';
import { imagesSuite } from './images';
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
import { webhooksSuite } from './webhooks';

/** Every benchmark suite, in the order they run. Each issue adds its own. */
export const suites: BenchSuite[] = [
  itemsSuite,
  intakeSuite,
  reviewSuite,
  bulkSuite,
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
  webhooksSuite,
  imagesSuite,
];
