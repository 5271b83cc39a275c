import { createHash, randomBytes } from 'node:crypto';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

/**
 * A message as the store reads it, whatever it came as: its size, SHA-256 and first bytes known,
 * its bytes given as pieces (again on each call: a retried transaction reads them again).
 */
export interface RawMessage {
  readonly size: number;
  readonly sha256: string;
  /** The first `n` bytes (the header block). */
  head(n: number): Buffer;
  pieces(): AsyncIterable<Buffer> | Iterable<Buffer>;
}

/** A message held in memory (IMAP, the API, a small SMTP message). */
export function messageInMemory(raw: Buffer | readonly Buffer[]): RawMessage {
  const chunks = Buffer.isBuffer(raw) ? [raw] : raw;
  const hash = createHash('sha256');
  for (const c of chunks) hash.update(c);
  return {
    size: chunks.reduce((n, c) => n + c.length, 0),
    sha256: hash.digest('hex'),
    head: (n) => prefix(chunks, n),
    pieces: () => chunks,
  };
}

/** The first `n` bytes of a message given as chunks. */
function prefix(chunks: readonly Buffer[], n: number): Buffer {
  const out: Buffer[] = [];
  let len = 0;
  for (const c of chunks) {
    if (len >= n) break;
    out.push(c.subarray(0, n - len));
    len += Math.min(c.length, n - len);
  }
  return out.length === 1 ? out[0]! : Buffer.concat(out);
}

/**
 * An SMTP message as it arrives (issue 18): held in memory up to `inMemory` bytes, the rest written
 * to a temporary file as it comes, with back-pressure (it is a Writable: pipe the DATA stream in).
 * Held as socket chunks until it was stored, 200 senders at once could hold 200 ×
 * INBOUND_MAX_BYTES; spooled, the server's peak while reading the largest letters also fell by
 * ~10 MiB (tests/faults/large-inbound-email.test.ts). The file is unlinked as soon as it is
 * opened, so nothing is left behind, not even by a crash: its space goes with the descriptor.
 * Past `maxBytes` the rest is counted and dropped (`exceeded`). `close()` when done, always: also
 * while a write is still under way (a sender gone mid-DATA), whose file is then closed at once.
 */
export class MessageSpool extends Writable implements RawMessage {
  size = 0;
  private readonly hash = createHash('sha256');
  private digest: string | null = null;
  private held: Buffer[] = [];
  private headBytes: Buffer[] = [];
  private file: FileHandle | null = null;
  private written = 0;
  private released = false;

  constructor(private readonly opts: { inMemory: number; maxBytes: number; headBytes: number; dir?: string }) {
    super();
  }

  get exceeded(): boolean {
    return this.size > this.opts.maxBytes;
  }

  get sha256(): string {
    this.digest ??= this.hash.digest('hex');
    return this.digest;
  }

  head(n: number): Buffer {
    return prefix(this.file ? this.headBytes : this.held, n);
  }

  pieces(): AsyncIterable<Buffer> | Iterable<Buffer> {
    if (!this.file) return this.held;
    // A stream of the descriptor from the start; the descriptor stays open for another reading.
    return this.file.createReadStream({ start: 0, end: this.written - 1, autoClose: false, highWaterMark: 256 * 1024 });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.take(chunk).then(() => done(), done);
  }

  private async take(chunk: Buffer): Promise<void> {
    this.size += chunk.length;
    if (this.exceeded) return this.drop();
    this.hash.update(chunk);
    if (this.file) return this.append(chunk);
    this.held.push(chunk);
    if (this.size <= this.opts.inMemory) return;
    const path = join(this.opts.dir ?? tmpdir(), `takedown-inbound-${randomBytes(12).toString('hex')}`);
    const file = await open(path, 'wx+', 0o600);
    await unlink(path);
    if (this.released) return file.close();
    this.file = file;
    this.headBytes = [prefix(this.held, this.opts.headBytes)];
    const held = this.held;
    this.held = [];
    for (const c of held) await this.append(c);
  }

  private async append(chunk: Buffer): Promise<void> {
    for (let at = 0; at < chunk.length;) {
      if (!this.file) return; // closed meanwhile
      const { bytesWritten } = await this.file.write(chunk, at, chunk.length - at, this.written);
      at += bytesWritten;
      this.written += bytesWritten;
    }
  }

  private async drop(): Promise<void> {
    this.held = [];
    this.headBytes = [];
    await this.closeFile();
  }

  /** Lets go of the bytes: the held chunks, and the file's space with its descriptor. */
  async close(): Promise<void> {
    this.released = true;
    this.held = [];
    await this.closeFile();
  }

  private async closeFile(): Promise<void> {
    const f = this.file;
    this.file = null;
    await f?.close();
  }
}
