import pino, { Logger } from 'pino';

/**
 * Operators' log. Personal data and secrets never go here: request bodies are not logged, and the
 * fields below are censored wherever they appear.
 */
export function createLogger(level: string): Logger {
  return pino({
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
  });
}

export type { Logger };
