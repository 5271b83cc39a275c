import type { ErrorRequestHandler, Request, Response } from 'express';
import type { Logger } from 'pino';
import { AppError } from './errors';
import { wantsJson } from './http';

interface Shown {
  status: number;
  code: string;
  message: string;
  errors?: { field: string; message: string }[];
  details?: Record<string, unknown>;
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Please sign in',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflict',
  413: 'Too large',
  415: 'Unsupported content',
  422: 'Check your input',
  423: 'Locked',
  429: 'Too many requests',
  500: 'Something went wrong',
  503: 'Temporarily unavailable',
};

/** Database is down or restarting: the client should retry, this is not a bug. */
function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string; name?: string };
  const code = e?.code ?? '';
  // TypeORM releases a transaction's query runner when its connection emits an error (the server
  // went away between two queries: a restart, a failover); the next query through the runner or its
  // EntityManager then throws one of these. Our runners are released only by db.transaction() after
  // the work, so during a request they mean a lost connection.
  if (e?.name === 'QueryRunnerAlreadyReleasedError' || e?.name === 'QueryRunnerProviderAlreadyReleasedError') return true;
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '53300', '08006', '08001', '08003'].includes(code) ||
    /timeout exceeded when trying to connect|Connection terminated|connection is closed|Client has encountered a connection error/i.test(
      e?.message ?? '',
    )
  );
}

function classify(err: unknown): Shown {
  if (err instanceof AppError) {
    const { errors, ...rest } = err.details;
    return { status: err.status, code: err.code, message: err.message, errors, details: Object.keys(rest).length ? rest : undefined };
  }
  const e = err as { status?: number; statusCode?: number; type?: string; code?: string; expose?: boolean };
  if (e?.code === 'EBADCSRFTOKEN') {
    return {
      status: 403,
      code: 'CSRF.INVALID',
      message: 'This form has expired or did not come from this site. Go back, reload the page and try again.',
    };
  }
  if (e?.type === 'entity.too.large')
    return { status: 413, code: 'REQUEST.TOO_LARGE', message: 'The request is too large (at most 1 MB).' };
  if (e?.type === 'entity.parse.failed')
    return { status: 400, code: 'REQUEST.MALFORMED', message: 'The request body could not be read: it is not valid JSON or form data.' };
  if (e?.type === 'charset.unsupported' || e?.type === 'encoding.unsupported')
    return { status: 415, code: 'REQUEST.UNSUPPORTED', message: 'Send the request as UTF-8.' };
  const status = e?.status ?? e?.statusCode;
  if (status && status >= 400 && status < 500) return { status, code: 'REQUEST.INVALID', message: TITLES[status] ?? 'Bad request' };
  if (isDatabaseUnavailable(err))
    return { status: 503, code: 'SERVICE.UNAVAILABLE', message: 'The service is briefly unavailable. Please try again in a moment.' };
  return { status: 500, code: 'INTERNAL', message: 'Something went wrong on our side. It has been logged; please try again.' };
}

/** The one error handler: a page or JSON depending on what the client accepts; never a stack trace. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const shown = classify(err);
    if (shown.status >= 500) {
      (req.log ?? logger).error({ err, code: shown.code }, 'request failed');
    }
    if (res.headersSent) return res.destroy();
    if (shown.status === 503) res.setHeader('Retry-After', '5');
    res.setHeader('Cache-Control', 'no-store');
    sendError(req, res, shown);
  };
}

function sendError(req: Request, res: Response, shown: Shown) {
  res.status(shown.status);
  // No cache, shared or private, keeps an error (a 404 of a page about to exist, a passing 503).
  res.setHeader('Cache-Control', 'no-store');
  if (wantsJson(req)) {
    const errors = shown.errors?.length ? shown.errors : [{ field: '', message: shown.message }];
    return res.json({ errors, code: shown.code, ...(shown.details ? { details: shown.details } : {}) });
  }
  res.render('errors/error', {
    title: TITLES[shown.status] ?? 'Error',
    status: shown.status,
    message: shown.message,
    errors: shown.errors,
    details: shown.details,
  });
}

export function notFound(req: Request, res: Response) {
  sendError(req, res, { status: 404, code: 'NOT_FOUND', message: 'There is nothing at this address.' });
}
