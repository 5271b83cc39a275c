import 'reflect-metadata';
import { ClassConstructor, plainToInstance } from 'class-transformer';
import { validate, ValidationError } from 'class-validator';
import type { NextFunction, Request, Response } from 'express';
import type { RequestContext } from './request-context';
import { AppError, FieldError } from './errors';

/**
 * Validation at the edge: one DTO class serves a form and the API. Unknown fields are refused.
 * Returns the typed instance, or throws a 422 AppError with one message per field.
 */
export async function validateBody<T extends object>(cls: ClassConstructor<T>, body: unknown): Promise<T> {
  const errors = await validationErrors(cls, body);
  if (errors.length) throw AppError.validation(errors);
  return plainToInstance(cls, body ?? {});
}

export async function validationErrors<T extends object>(cls: ClassConstructor<T>, body: unknown): Promise<FieldError[]> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return [{ field: '_body', message: 'The request body must be an object.' }];
  }
  const instance = plainToInstance(cls, body);
  const errors = await validate(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  return flatten(errors);
}

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.entries(e.constraints ?? {}).map(([rule, message]) => ({
      field,
      message: rule === 'whitelistValidation' ? `${e.property} is not an accepted field.` : message,
    }));
    // One message per field is clearer than a list of every rule it broke.
    return [...own.slice(0, 1), ...flatten(e.children ?? [], field)];
  });
}

/** Errors keyed by field, for templates: `{{#if errors.email}}`. */
export function errorsByField(errors: FieldError[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of errors) if (!out[e.field]) out[e.field] = e.message;
  return out;
}

export function requestContext(req: Request): RequestContext {
  return { ip: req.ip ?? null, requestId: typeof req.id === 'string' ? req.id : String(req.id ?? '') || null };
}

/** Whether the client wants JSON rather than a page. */
export function wantsJson(req: Request): boolean {
  if (req.path.startsWith('/api/')) return true;
  return req.accepts(['html', 'json']) === 'json';
}

/** A local path to go back to after login; anything else becomes the staff home. */
export function safeNextPath(next: unknown, fallback = '/staff'): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return fallback;
  if (/[\r\n]/.test(next) || next.length > 500) return fallback;
  return next;
}

export function noStore(_req: Request, res: Response, next: NextFunction) {
  res.setHeader('Cache-Control', 'no-store');
  next();
}

/** The first place a NUL character hides in a parsed query or body, as a field path, or null. */
function nulField(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (depth > MAX_BODY_DEPTH || value === null || typeof value !== 'object') return null;
  for (const [k, v] of Object.entries(value)) {
    const found = k.includes('\u0000') ? k.replace(/\u0000/g, '') || '?' : nulField(v, path ? `${path}.${k}` : k, depth + 1);
    if (found) return found;
  }
  return null;
}

/**
 * PostgreSQL text cannot hold a NUL character: one in a query value, a path or a body would reach
 * the database as an "invalid byte sequence" error (a 500). No legitimate input carries one, so it
 * is refused at the edge with a 400 naming the field: the address first (before anything else
 * runs), the body once it is parsed.
 */
export function refuseNulInAddress(req: Request, _res: Response, next: NextFunction) {
  if (/%00/.test(req.path) || req.path.includes('\u0000')) {
    throw AppError.badRequest('The address contains a NUL character.', [
      { field: 'path', message: 'The address must not contain a NUL character (%00).' },
    ]);
  }
  refuseNulIn(req.query);
  next();
}

export function refuseNulInBody(req: Request, _res: Response, next: NextFunction) {
  refuseNulIn(req.body);
  next();
}

function refuseNulIn(value: unknown) {
  const field = nulField(value, '');
  if (field)
    throw AppError.badRequest('The request contains a NUL character.', [{ field, message: `${field} must not contain a NUL character.` }]);
}

/** No form or API body of ours nests deeper than a few levels; this is far beyond any of them. */
const MAX_BODY_DEPTH = 32;

function deeperThan(root: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth >= max) return true;
    for (const v of Object.values(value)) stack.push([v, depth + 1]);
  }
  return false;
}

/**
 * A JSON body nested thousands of levels deep parses fine but overflows the stack of the recursive
 * validation that follows (class-transformer): a 500. It is refused at the edge with a 400.
 */
export function refuseDeepBodies(req: Request, _res: Response, next: NextFunction) {
  if (deeperThan(req.body, MAX_BODY_DEPTH)) {
    throw AppError.badRequest('The request body is nested too deeply.', [
      { field: '_body', message: `The body must not nest more than ${MAX_BODY_DEPTH} levels.` },
    ]);
  }
  next();
}
