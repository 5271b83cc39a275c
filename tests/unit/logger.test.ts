import { Writable } from 'node:stream';
import { createLogger } from '../../src/shared/logger';

function sink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { stream, lines };
}

describe('createLogger', () => {
  it('when pretty is asked, then a line is readable text (level, message, fields), not JSON, and still redacted', () => {
    const { stream, lines } = sink();
    const log = createLogger('info', stream, { pretty: true });
    log.info({ route: '/queue', email: 'someone@example.org' }, 'request completed');
    const text = lines.join('\n');
    expect(text).toMatch(/INFO.*request completed/);
    expect(text).toContain('/queue');
    expect(text).not.toContain('someone@example.org');
    expect(text).toContain('[redacted]');
    expect(() => JSON.parse(lines[0])).toThrow();
  });

  it('when pretty is not asked, then each line is one JSON object', () => {
    const { stream, lines } = sink();
    const log = createLogger('info', stream);
    log.info({ route: '/queue' }, 'request completed');
    expect(JSON.parse(lines[0])).toMatchObject({ level: 30, route: '/queue', msg: 'request completed' });
  });
});
