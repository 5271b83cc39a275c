import { create } from 'express-handlebars';
import Handlebars from 'handlebars';
import { readdirSync, readFileSync } from 'node:fs';
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

/** Renders a view in the default layout to a string, synchronously, from templates compiled once. */
export type PageRenderer = (view: string, context: Record<string, unknown>) => string;

/**
 * The page renderer of the public pages' hot and cold paths (issue 18): the same templates, helpers,
 * partials and layout as `res.render`, and the same output (express-handlebars trims the view and the
 * layout), but compiled once at the first use and rendered synchronously — no view lookup, no
 * promise chain and no per-render merge of the helper and partial tables.
 * `reload` (VIEW_RELOAD) re-reads and recompiles every template on every render, for someone editing views/.
 */
export function createPageRenderer(opts: { reload?: boolean } = {}): PageRenderer {
  let compiled: ReturnType<typeof compileAll> | null = null;
  const templates = () => (opts.reload || !compiled ? (compiled = compileAll()) : compiled);
  return (view, context) => {
    const t = templates();
    const body = t.view(view)(context).trim();
    return t.layout({ ...context, body }).trim();
  };
}

function compileAll() {
  const hbs = Handlebars.create();
  hbs.registerHelper(pageHelpers);
  const read = (file: string) => hbs.compile(readFileSync(file, 'utf8').trim());
  const partialsDir = path.join(viewsDir, 'partials');
  for (const file of readdirSync(partialsDir, { recursive: true }) as string[]) {
    if (file.endsWith('.hbs')) hbs.registerPartial(file.slice(0, -4).split(path.sep).join('/'), read(path.join(partialsDir, file)));
  }
  const layout = read(path.join(viewsDir, 'layouts', 'main.hbs'));
  const views = new Map<string, Handlebars.TemplateDelegate>();
  return {
    layout,
    view(name: string) {
      let t = views.get(name);
      if (!t) views.set(name, (t = read(path.join(viewsDir, `${name}.hbs`))));
      return t;
    },
  };
}
