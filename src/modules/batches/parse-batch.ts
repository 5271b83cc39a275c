import { parse, Parser } from 'csv-parse';
import { PassThrough } from 'node:stream';
import type { Readable } from 'node:stream';
import { AppError } from '../../shared/errors';
import { normaliseUrl } from '../../shared/url';
import { MAX_INFRINGING_URLS, urlListProblem } from '../notices';

/** Limits of one batch (SPEC §14): URLs over all works, bytes of the upload, errors listed. */
export const MAX_BATCH_URLS = 100_000;
export const MAX_BATCH_BYTES = 20 * 1024 * 1024;
export const MAX_LISTED_ERRORS = 1_000;
export const CSV_HEADER = ['work_description', 'original_url', 'infringing_url'] as const;

/** The refusal of an upload over MAX_BATCH_BYTES (the API's body, the portal's file). */
export function batchTooLarge(): AppError {
  return new AppError('BATCH.TOO_LARGE', `A batch upload can be at most ${MAX_BATCH_BYTES / 1024 / 1024} MB.`, 413, {
    errors: [{ field: '_body', message: 'The upload is too large.' }],
  });
}

/** A file uploaded through a form (the portal's batch upload). */
export interface CsvFile {
  filename: string;
  mimeType: string;
  content: Buffer;
  /** More than MAX_BATCH_BYTES was sent (only the first MAX_BATCH_BYTES were kept). */
  truncated: boolean;
}

const CSV_TYPES = ['text/csv', 'text/plain', 'application/csv', 'text/comma-separated-values', 'application/vnd.ms-excel'];

/**
 * What is wrong with an uploaded file before it is read as CSV: none chosen, over the limit, or not a
 * CSV (neither named nor typed as one, or binary: a spreadsheet saved as .xlsx and renamed). Null when
 * it may be parsed; what is inside (header, rows) is `parseCsvBatch`'s to judge, as for the API.
 */
export function csvFileProblem(f: CsvFile | null | undefined): AppError | null {
  if (!f || (!f.filename && !f.content.length)) return AppError.validation([{ field: 'csv', message: 'Choose the CSV file to upload.' }]);
  if (f.truncated || f.content.length > MAX_BATCH_BYTES) return batchTooLarge();
  const named = /\.(csv|txt)$/i.test(f.filename);
  const typed = CSV_TYPES.includes(f.mimeType.toLowerCase());
  if ((!named && !typed) || f.content.subarray(0, 8192).includes(0))
    return AppError.validation([
      { field: 'csv', message: 'The file is not a CSV. Save the spreadsheet as CSV (comma-separated values) and upload that file.' },
    ]);
  return null;
}

export interface ParsedWork {
  row: number;
  description: string;
  originalUrls: string[];
  infringingUrls: string[];
}

export interface ParsedBatch {
  works: ParsedWork[];
  urls: number;
  errors: { row: number; message: string }[];
}

/**
 * Collects rows into works, checking each as it comes: a bad row is reported by its number and
 * left out, the good rows are kept. A URL already named by an earlier work (in any spelling that
 * normalises the same) is refused; one repeated inside a work is folded.
 */
class Collector {
  private readonly works = new Map<string, ParsedWork>();
  private readonly seen = new Map<string, number>();
  private urls = 0;
  private readonly errors: { row: number; message: string }[] = [];
  private errorCount = 0;

  constructor(private readonly baseUrl: string) {}

  error(row: number, message: string) {
    this.errorCount++;
    if (this.errors.length < MAX_LISTED_ERRORS) this.errors.push({ row, message });
  }

  add(row: number, description: unknown, originals: unknown[], infringing: unknown[]) {
    const desc = typeof description === 'string' ? description.trim() : '';
    if (desc.length < 10 || desc.length > 5000) return this.error(row, 'Describe the work in 10 to 5,000 characters.');
    const origs = originals.map((u) => (typeof u === 'string' ? u.trim() : u)).filter((u) => u !== '');
    const badOriginal = origs.length ? urlListProblem(origs, false) : null;
    if (badOriginal) return this.error(row, `Original URL: ${badOriginal}`);
    let work = this.works.get(desc);
    for (const raw of infringing) {
      const url = typeof raw === 'string' ? raw.trim() : raw;
      const bad = urlListProblem([url], true);
      if (bad) {
        this.error(row, `Infringing URL: ${bad}`);
        continue;
      }
      const norm = normaliseUrl(url as string, this.baseUrl) ?? (url as string);
      const earlier = this.seen.get(norm);
      if (earlier !== undefined) {
        if (work && this.works.get(desc) === work && work.row === earlier) continue; // the same work: folded
        this.error(row, `This URL is already in the work of row ${earlier}.`);
        continue;
      }
      if (this.urls >= MAX_BATCH_URLS) {
        this.error(row, `A batch can name at most ${MAX_BATCH_URLS.toLocaleString('en')} URLs; send the rest in another batch.`);
        continue;
      }
      if (!work) {
        work = { row, description: desc, originalUrls: [], infringingUrls: [] };
        this.works.set(desc, work);
      }
      if (work.infringingUrls.length >= MAX_INFRINGING_URLS) {
        this.error(row, `A work can name at most ${MAX_INFRINGING_URLS} URLs; describe the rest as another work.`);
        continue;
      }
      work.infringingUrls.push(url as string);
      this.seen.set(norm, work.row);
      this.urls++;
    }
    if (work)
      for (const o of origs as string[]) if (!work.originalUrls.includes(o) && work.originalUrls.length < 100) work.originalUrls.push(o);
  }

  result(): ParsedBatch {
    const errors = [...this.errors];
    if (this.errorCount > errors.length)
      errors.push({
        row: 0,
        message: `${this.errorCount - errors.length} more rows were refused (only the first ${MAX_LISTED_ERRORS} are listed).`,
      });
    return { works: [...this.works.values()], urls: this.urls, errors };
  }
}

/** `{"works":[{"description","originalUrls","infringingUrls"}]}`; a work's "row" is its number (1-based). */
export function parseJsonBatch(body: unknown, baseUrl: string): ParsedBatch {
  const works = (body as { works?: unknown })?.works;
  if (!Array.isArray(works) || !works.length) throw AppError.validation([{ field: 'works', message: 'Give a non-empty list of works.' }]);
  const c = new Collector(baseUrl);
  works.forEach((w, i) => {
    const work = (w ?? {}) as Record<string, unknown>;
    const infringing = Array.isArray(work.infringingUrls) ? work.infringingUrls : [];
    if (!infringing.length) return c.error(i + 1, 'List at least one infringing URL (infringingUrls).');
    const originals = work.originalUrls === undefined ? [] : Array.isArray(work.originalUrls) ? work.originalUrls : null;
    if (!originals) return c.error(i + 1, 'originalUrls must be a list.');
    c.add(i + 1, work.description, originals, infringing);
  });
  return c.result();
}

/**
 * `text/csv` with the header `work_description,original_url,infringing_url`, one row per infringing
 * URL; rows with the same description form one work. Streamed through csv-parse: a BOM is dropped,
 * `;` is the delimiter when the header uses it, quoted fields may hold newlines. Rows are numbered as a
 * spreadsheet shows them (the header is row 1; a quoted newline does not start a new row).
 */
export async function parseCsvBatch(input: Readable, baseUrl: string): Promise<ParsedBatch> {
  const c = new Collector(baseUrl);
  // The delimiter is the header's: `;` when the header uses it (spreadsheets in many locales), else
  // `,`. The parser is made when the first bytes arrive; the upload goes through a PassThrough
  // (bounded by MAX_BATCH_BYTES, counted here).
  const pass = new PassThrough();
  let bytes = 0;
  let parser: Parser | null = null;
  const ready = new Promise<Parser>((resolve) => {
    const start = (first: string) => {
      const headerLine = first.replace(/^\uFEFF/, '').split(/\r?\n/)[0];
      const delimiter = headerLine.includes(';') && !headerLine.includes(',') ? ';' : ',';
      parser = pass.pipe(parse({ bom: true, delimiter, relax_column_count: true, skip_empty_lines: true, trim: true }));
      resolve(parser);
    };
    input.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > MAX_BATCH_BYTES) {
        const e = batchTooLarge();
        input.destroy();
        if (!parser) start('');
        parser!.destroy(e);
        return;
      }
      if (!parser) start(chunk.toString('utf8', 0, Math.min(chunk.length, 4096)));
      pass.write(chunk);
    });
    input.on('end', () => {
      if (!parser) start('');
      pass.end();
    });
    input.on('error', (e) => {
      if (!parser) start('');
      parser!.destroy(e);
    });
  });
  const csv = await ready;
  let row = 0;
  try {
    for await (const record of csv as AsyncIterable<string[]>) {
      row++;
      if (row === 1) {
        const header = record.map((h) => h.toLowerCase());
        if (header.join(',') !== CSV_HEADER.join(',')) {
          throw AppError.validation([{ field: 'csv', message: `The first row must be the header ${CSV_HEADER.join(',')}.` }]);
        }
        continue;
      }
      if (record.length !== 3) {
        c.error(row, `Expected 3 fields (${CSV_HEADER.join(', ')}), found ${record.length}.`);
        continue;
      }
      const [description, original, infringing] = record;
      c.add(row, description, original ? [original] : [], [infringing]);
    }
  } catch (e) {
    if (e instanceof AppError) throw e;
    const err = e as { code?: string; message?: string; lines?: number };
    throw AppError.validation([
      { field: 'csv', message: `The CSV could not be read after row ${row}: ${String(err.message ?? e).slice(0, 200)}` },
    ]);
  }
  if (row === 0) throw AppError.validation([{ field: 'csv', message: `The CSV is empty; its first row must be ${CSV_HEADER.join(',')}.` }]);
  return c.result();
}
