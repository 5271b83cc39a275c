import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MessageSpool } from '../../src/modules/inbound/message-spool';
import { openSpoolFiles } from '../support/spool-files';

async function collect(pieces: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of pieces) parts.push(p);
  return Buffer.concat(parts);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const chunked = (b: Buffer, size: number) =>
  Readable.from(Array.from({ length: Math.ceil(b.length / size) }, (_, i) => b.subarray(i * size, (i + 1) * size)));

describe('MessageSpool: an SMTP message as it arrives', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spool-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('when a message fits in memory, then no file is made and its size, hash, head and bytes are those sent', async () => {
    const bytes = randomBytes(100_000);
    const spool = new MessageSpool({ inMemory: 1024 * 1024, maxBytes: 25 * 1024 * 1024, headBytes: 1000, dir });
    await pipeline(chunked(bytes, 16 * 1024), spool);
    expect(openSpoolFiles()).toEqual([]);
    expect({ size: spool.size, sha256: spool.sha256, exceeded: spool.exceeded }).toEqual({
      size: bytes.length,
      sha256: sha(bytes),
      exceeded: false,
    });
    expect(spool.head(1000).equals(bytes.subarray(0, 1000))).toBe(true);
    expect((await collect(spool.pieces())).equals(bytes)).toBe(true);
    await spool.close();
  });

  it('when a message outgrows memory, then it goes to a file already unlinked, is read whole as often as asked, and its space goes at close', async () => {
    const bytes = randomBytes(5 * 1024 * 1024 + 123);
    const spool = new MessageSpool({ inMemory: 1024 * 1024, maxBytes: 25 * 1024 * 1024, headBytes: 1000, dir });
    await pipeline(chunked(bytes, 64 * 1024), spool);
    expect(readdirSync(dir)).toEqual([]);
    const open = openSpoolFiles();
    expect(open).toHaveLength(1);
    expect(open[0]).toMatch(/\(deleted\)$/);
    expect(spool.sha256).toBe(sha(bytes));
    expect(spool.head(1000).equals(bytes.subarray(0, 1000))).toBe(true);
    // A retried transaction reads the pieces a second time.
    expect((await collect(spool.pieces())).equals(bytes)).toBe(true);
    expect((await collect(spool.pieces())).equals(bytes)).toBe(true);
    await spool.close();
    expect(openSpoolFiles()).toEqual([]);
  });

  it('when a message passes maxBytes, then it is counted, not kept, and its file is closed at once', async () => {
    const bytes = randomBytes(3 * 1024 * 1024);
    const spool = new MessageSpool({ inMemory: 1024 * 1024, maxBytes: 2 * 1024 * 1024, headBytes: 1000, dir });
    await pipeline(chunked(bytes, 64 * 1024), spool);
    expect(spool.exceeded).toBe(true);
    expect(spool.size).toBe(bytes.length);
    expect(openSpoolFiles()).toEqual([]);
    expect(await collect(spool.pieces())).toEqual(Buffer.alloc(0));
    await spool.close();
  });

  it('when the spool is closed while its file is still being opened (a sender gone mid-DATA), then the file is closed as soon as it opens', async () => {
    const spool = new MessageSpool({ inMemory: 1024, maxBytes: 25 * 1024 * 1024, headBytes: 100, dir });
    spool.on('error', () => undefined);
    const written = new Promise<void>((resolve) => spool.write(randomBytes(4096), () => resolve()));
    await spool.close();
    await written;
    for (let i = 0; i < 100 && openSpoolFiles().length; i++) await new Promise((r) => setTimeout(r, 10));
    expect(openSpoolFiles()).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });
});
