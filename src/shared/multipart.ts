import busboy from 'busboy';
import type { Request } from 'express';
import { AppError } from './errors';

export interface UploadedFile {
  field: string;
  filename: string;
  mimeType: string;
  content: Buffer;
  /** More than `maxFileBytes` was sent: `content` holds only the first `maxFileBytes`. */
  truncated: boolean;
}

/**
 * Reads a `multipart/form-data` form (a file upload) with busboy, streamed: at most one file of
 * `maxFileBytes` is kept in memory (the rest of a larger one is drained and dropped, and the file
 * marked `truncated`), and at most 20 short text fields. A request that is not multipart is a 415.
 */
export function readMultipart(
  req: Request,
  opts: { maxFileBytes: number },
): Promise<{ fields: Record<string, string>; file: UploadedFile | null }> {
  if (!req.is('multipart/form-data')) {
    return Promise.reject(new AppError('REQUEST.UNSUPPORTED', 'Send the form as multipart/form-data (a file upload).', 415));
  }
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { files: 1, fields: 20, fieldSize: 10_000, parts: 25, fileSize: opts.maxFileBytes } });
    } catch {
      return reject(AppError.badRequest('The upload could not be read: it is not valid multipart/form-data.'));
    }
    const fields: Record<string, string> = {};
    let file: UploadedFile | null = null;
    bb.on('field', (name, value) => {
      fields[name] = value;
    });
    bb.on('file', (field, stream, info) => {
      if (file) return stream.resume();
      const chunks: Buffer[] = [];
      const f: UploadedFile = { field, filename: info.filename ?? '', mimeType: info.mimeType, content: Buffer.alloc(0), truncated: false };
      file = f;
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => {
        f.truncated = true;
      });
      stream.on('end', () => {
        f.content = Buffer.concat(chunks);
      });
    });
    bb.on('error', () => reject(AppError.badRequest('The upload could not be read: it is not valid multipart/form-data.')));
    bb.on('close', () => resolve({ fields, file }));
    req.pipe(bb);
  });
}
