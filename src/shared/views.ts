import { create } from 'express-handlebars';
import path from 'node:path';
import { viewsDir } from './paths';

/** Helpers for page templates. Every value is escaped by `{{ }}`; no helper returns raw HTML. */
export const pageHelpers = {
  eq: (a: unknown, b: unknown) => a === b,
  or: (...args: unknown[]) => args.slice(0, -1).some(Boolean),
  /** A timestamp as "2026-11-30 14:05 UTC". */
  datetime: (d: unknown) => {
    if (!d) return '';
    const date = d instanceof Date ? d : new Date(String(d));
    if (Number.isNaN(date.getTime())) return '';
    return date.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  },
  date: (d: unknown) => {
    if (!d) return '';
    const date = d instanceof Date ? d : new Date(String(d));
    return Number.isNaN(date.getTime()) ? '' : date.toISOString().slice(0, 10);
  },
  iso: (d: unknown) => (d instanceof Date ? d.toISOString() : d ? String(d) : ''),
  plural: (n: number, one: string, many: string) => (n === 1 ? one : many),
};

export function createViewEngine() {
  return create({
    extname: '.hbs',
    defaultLayout: 'main',
    layoutsDir: path.join(viewsDir, 'layouts'),
    partialsDir: path.join(viewsDir, 'partials'),
    helpers: pageHelpers,
  });
}
