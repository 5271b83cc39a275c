import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { record, RequestContext } from '../audit';
import { currentStatements, Submitter, submitterActor, suspension } from '../submitters';
import { Batch } from './batch.entity';
import type { ParsedBatch } from './parse-batch';

/**
 * What a batch's notices are made from besides the works: the submitter's profile (contact details)
 * and standing statements. Checked when the batch is accepted, so a batch that cannot succeed is
 * refused at once.
 */
export async function assertCanSendBatch(deps: Pick<AppDeps, 'db' | 'clock'>, s: Submitter): Promise<void> {
  const refused = suspension(s, deps.clock.now());
  if (refused) throw refused;
  const errors = [];
  if (!s.name || !s.address || !s.country || !s.role)
    errors.push({
      field: 'profile',
      message: 'Complete your profile (name, postal address, country, role) in the portal first: each notice of a batch is sent with it.',
    });
  if (s.role === 'agent' && !s.rightsOwners.length)
    errors.push({ field: 'profile', message: 'As an agent, list the rights owners you represent in your profile.' });
  if (!(await currentStatements(deps.db.manager, s.id)))
    errors.push({ field: 'statements', message: 'Make standing statements in the portal first: the notices of a batch rely on them.' });
  if (errors.length) throw AppError.validation(errors, 'This submitter cannot send batches yet.');
}

/**
 * Accepts a parsed batch: the batch row, every work, and the `batch.created` audit event in ONE
 * transaction (nothing half-written). The notices are made afterwards by the batch job.
 */
export async function createBatch(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  cmd: { submitter: Submitter; parsed: ParsedBatch; format: 'json' | 'csv'; context: RequestContext },
): Promise<Batch> {
  const { parsed } = cmd;
  if (!parsed.works.length)
    throw new AppError('VALIDATION.FAILED', 'No row of the batch could be used.', 422, {
      errors: parsed.errors.map((e) => ({ field: `row ${e.row}`, message: e.message, row: e.row })),
    });
  return withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const repo = tx.getRepository(Batch);
    const batch = await repo.save(
      repo.create({
        submitterId: cmd.submitter.id,
        status: 'queued',
        works: parsed.works.length,
        urls: parsed.urls,
        processed: 0,
        errors: parsed.errors,
        format: cmd.format,
        createdAt: now,
      }),
    );
    const w = parsed.works;
    await tx.query(
      `INSERT INTO batch_works (batch_id, position, "row", description, original_urls, infringing_urls)
       SELECT $1, t.position, t.row, t.description, ARRAY(SELECT jsonb_array_elements_text(t.originals)), ARRAY(SELECT jsonb_array_elements_text(t.infringing))
         FROM unnest($2::int[], $3::int[], $4::text[], $5::jsonb[], $6::jsonb[]) AS t(position, row, description, originals, infringing)`,
      [
        batch.id,
        w.map((_, i) => i + 1),
        w.map((x) => x.row),
        w.map((x) => x.description),
        w.map((x) => JSON.stringify(x.originalUrls)),
        w.map((x) => JSON.stringify(x.infringingUrls)),
      ],
    );
    await record(tx, {
      actor: submitterActor(cmd.submitter),
      action: 'batch.created',
      subject: { type: 'batch', id: batch.id },
      details: { format: cmd.format, works: batch.works, urls: batch.urls, refusedRows: parsed.errors.length },
      context: cmd.context,
      at: now,
    });
    return batch;
  });
}

/**
 * A batch, whichever door it came through (the API's JSON or `text/csv` body, the portal's uploaded
 * file): the same refusal of a submitter who cannot send batches (suspended, no profile or standing
 * statements) before a byte is read, then `read` (the door's parse: `parseCsvBatch` streamed, with
 * its limits and row-numbered errors, or `parseJsonBatch`), then the one-transaction acceptance.
 */
export async function sendBatch(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  cmd: { submitter: Submitter; format: 'json' | 'csv'; read: () => Promise<ParsedBatch>; context: RequestContext },
): Promise<Batch> {
  await assertCanSendBatch(deps, cmd.submitter);
  const parsed = await cmd.read();
  return createBatch(deps, { submitter: cmd.submitter, parsed, format: cmd.format, context: cmd.context });
}
