import { Readable } from 'node:stream';
import { CsvLineEndings } from '../../src/db/copy-stream';

/** Feeds `chunks` through the transform and returns what comes out. */
async function through(chunks: string[]): Promise<string> {
  const out: Buffer[] = [];
  for await (const b of Readable.from(chunks.map((c) => Buffer.from(c))).pipe(new CsvLineEndings())) out.push(b as Buffer);
  return Buffer.concat(out).toString();
}

describe('CsvLineEndings (PostgreSQL CSV to RFC 4180 line endings)', () => {
  it('when rows end with LF, then they end with CRLF', async () => {
    expect(await through(['a,b\nc,d\n'])).toBe('a,b\r\nc,d\r\n');
  });

  it('when a quoted field holds LF or CRLF, then it is left as it is', async () => {
    expect(await through(['1,"line1\nline2\r\nline3"\n2,x\n'])).toBe('1,"line1\nline2\r\nline3"\r\n2,x\r\n');
  });

  it('when doubled quotes occur inside a quoted field, then the field still ends where it ends', async () => {
    expect(await through(['"say ""hi""\nnow",z\n'])).toBe('"say ""hi""\nnow",z\r\n');
  });

  it('when a quoted field is split across chunks, then the quote state carries over', async () => {
    const whole = '1,"a\nb",c\n2,"d\ne"\n';
    const expected = '1,"a\nb",c\r\n2,"d\ne"\r\n';
    for (let cut = 0; cut <= whole.length; cut++) {
      expect(await through([whole.slice(0, cut), whole.slice(cut)])).toBe(expected);
    }
  });
});
