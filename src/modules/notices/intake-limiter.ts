import type { NextFunction, Request, Response } from 'express';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { AppDeps } from '../../deps';
import { poolOf } from '../../db/data-source';
import { AppError } from '../../shared/errors';

/**
 * Per-IP limits on the public intake, counted in PostgreSQL so they hold across instances.
 * Over the limit: 429 with Retry-After, as a page or JSON.
 */
export function rateLimit(deps: AppDeps, keyPrefix: string, points: number, seconds: number) {
  const limiter = new RateLimiterPostgres({
    storeClient: poolOf(deps.db),
    storeType: 'pool',
    tableName: 'rate_limits',
    tableCreated: true,
    keyPrefix,
    points,
    duration: seconds,
  });
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      await limiter.consume(req.ip ?? 'unknown');
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      const wait = Math.ceil(e.msBeforeNext / 1000);
      res.setHeader('Retry-After', String(wait));
      throw new AppError(
        'RATE.LIMITED',
        `Too many requests from your network. Please wait ${Math.ceil(wait / 60)} minute(s) and try again.`,
        429,
      );
    }
    next();
  };
}
