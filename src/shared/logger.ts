import pino, { Logger } from 'pino';

/**
 * Operators' log. Personal data and secrets never go here: request bodies are not logged, and the
 * fields below are censored wherever they appear.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
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
  // A destination is for tests that read what would be logged; the app logs to stdout.
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
