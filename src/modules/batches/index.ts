/** Bulk batches (SPEC §14): many works, one notice each, made by a durable job. */
export { Batch, BatchWork, BATCH_STATUSES } from './batch.entity';
export type { BatchStatus } from './batch.entity';
export { parseJsonBatch, parseCsvBatch, csvFileProblem, MAX_BATCH_URLS, MAX_BATCH_BYTES, CSV_HEADER } from './parse-batch';
export type { ParsedBatch, ParsedWork, CsvFile } from './parse-batch';
export { createBatch, assertCanSendBatch, sendBatch } from './create-batch';
export { processBatches, LEASE_MS } from './process-batches';
export { batchOf, batchJson, batchUrls, batchesOf } from './batches.queries';
