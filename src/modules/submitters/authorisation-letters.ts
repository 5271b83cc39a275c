import { createHash } from 'node:crypto';
import { EntityManager } from 'typeorm';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { Actor, record, RequestContext } from '../audit';
import { AuthorisationLetter } from './authorisation-letter.entity';
import { submitterActor } from './submitter-actor';
import { Submitter } from './submitter.entity';

/**
 * Authorisation letters (SPEC §14): a PDF, checked by its content (the `%PDF-` header and an
 * `%%EOF` trailer, whatever the browser called it), at most AUTHORISATION_LETTER_MAX_BYTES, kept
 * in the database. The submitter uploads; only staff download. Both are audited.
 */

export interface LetterUpload {
  filename: string;
  content: Buffer;
  truncated: boolean;
}

const field = (message: string) => AppError.validation([{ field: 'letter', message }]);

/** The file's problem as a form error, or null when it is a PDF within the limit. */
export function letterProblem(f: LetterUpload | null, maxBytes: number): AppError | null {
  const mb = `${Math.round((maxBytes / 1024 / 1024) * 10) / 10} MB`;
  if (!f || !f.content.length) return field('Choose the PDF file of your authorisation letter.');
  if (f.truncated || f.content.length > maxBytes) {
    return new AppError('LETTER.TOO_LARGE', `The letter is larger than ${mb}.`, 413, {
      errors: [{ field: 'letter', message: `The letter is larger than ${mb}: send a smaller PDF (scan at a lower resolution).` }],
    });
  }
  const head = f.content.subarray(0, 1024).toString('latin1');
  const tail = f.content.subarray(Math.max(0, f.content.length - 1024)).toString('latin1');
  if (!/^%PDF-\d\.\d/.test(head) || !tail.includes('%%EOF')) return field('The file is not a PDF. Upload the letter as a PDF document.');
  return null;
}

/** A file name safe to store and to send back in Content-Disposition. */
function cleanFilename(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = base
    .replace(/[^\p{L}\p{N} ._()-]+/gu, '_')
    .trim()
    .slice(0, 150);
  return clean && /\.pdf$/i.test(clean) ? clean : `${clean || 'authorisation-letter'}.pdf`;
}

export async function uploadLetter(
  deps: Pick<AppDeps, 'db' | 'clock' | 'config'>,
  cmd: { submitterId: string; file: LetterUpload | null; context: RequestContext },
): Promise<AuthorisationLetter> {
  const problem = letterProblem(cmd.file, deps.config.submitters.letterMaxBytes);
  if (problem) throw problem;
  const f = cmd.file!;
  return withTransaction(deps.db, async (tx) => {
    const s = await tx.getRepository(Submitter).findOneBy({ id: cmd.submitterId });
    if (!s) throw AppError.notFound('Submitter', 'SUBMITTER.NOT_FOUND');
    const now = deps.clock.now();
    const row = tx.getRepository(AuthorisationLetter).create({
      submitterId: s.id,
      filename: cleanFilename(f.filename),
      size: f.content.length,
      sha256: createHash('sha256').update(f.content).digest('hex'),
      content: f.content,
      uploadedAt: now,
    });
    await tx.getRepository(AuthorisationLetter).insert(row);
    await record(tx, {
      actor: submitterActor(s),
      action: 'submitter.letter_uploaded',
      subject: { type: 'submitter', id: s.id },
      details: { letterId: row.id, filename: row.filename, size: row.size, sha256: row.sha256 },
      context: cmd.context,
      at: now,
    });
    return row;
  });
}

/** The newest letter's description (no content), or null. */
export async function currentLetter(tx: EntityManager, submitterId: string): Promise<AuthorisationLetter | null> {
  return tx.getRepository(AuthorisationLetter).findOne({ where: { submitterId }, order: { uploadedAt: 'DESC', id: 'DESC' } });
}

/** A letter's file for a staff member (the newest unless `letterId`), audited as downloaded. */
export async function letterForStaff(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  cmd: { submitterId: string; letterId?: string; actor: Actor; context: RequestContext },
): Promise<{ filename: string; content: Buffer }> {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  if (!uuid.test(cmd.submitterId) || (cmd.letterId && !uuid.test(cmd.letterId))) throw AppError.notFound('Letter', 'LETTER.NOT_FOUND');
  return withTransaction(deps.db, async (tx) => {
    const [row] = await tx.query(
      `SELECT id, filename, content FROM authorisation_letters
        WHERE submitter_id = $1 AND ($2::uuid IS NULL OR id = $2) ORDER BY uploaded_at DESC, id DESC LIMIT 1`,
      [cmd.submitterId, cmd.letterId ?? null],
    );
    if (!row) throw AppError.notFound('Letter', 'LETTER.NOT_FOUND');
    await record(tx, {
      actor: cmd.actor,
      action: 'submitter.letter_downloaded',
      subject: { type: 'submitter', id: cmd.submitterId },
      details: { letterId: row.id, filename: row.filename },
      context: cmd.context,
      at: deps.clock.now(),
    });
    return { filename: row.filename, content: row.content };
  });
}
