import pino, { Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * Operators' log: JSON lines (for a log collector), or readable lines when `pretty` (the container
 * asks for that when stdout is a terminal and NODE_ENV is not production). Personal data and
 * secrets never go here: request bodies are not logged, and the fields below are censored
 * wherever they appear, in either form.
 */
export function createLogger(level: string, destination?: pino.DestinationStream, opts: { pretty?: boolean } = {}): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        '*.password',
        '*.passwordHash',
        '*.token',
        '*.email',
        '*.phone',
        '*.address',
        'password',
        'token',
        'email',
        'phone',
        'address',
      ],
      censor: '[redacted]',
    },
  };
  // A person at a terminal reads lines, not JSON; redaction happens before either is written.
  // Synchronous, in this thread (not a transport worker): the last lines before exit are never lost.
  if (opts.pretty) {
    const stream = pretty({
      colorize: !destination,
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      destination: destination ?? 1,
    });
    return pino(options, stream);
  }
  // A destination is for tests that read what would be logged; the app logs to stdout.
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
