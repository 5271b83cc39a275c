import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { AppError } from '../../shared/errors';
import { viewsDir } from '../../shared/paths';
import { pageHelpers } from '../../shared/views';

/**
 * Email rendering: data → (subject, HTML, text), with a handlebars instance of its own (never the
 * page engine, so page partials and helpers cannot leak into mail and the other way round).
 *
 * A template is two files in `views/emails/`:
 *   <name>.txt.hbs   first line `{{!-- subject: … --}}` (the subject, itself a template), then the
 *                    plain-text part, rendered WITHOUT HTML escaping (it is not HTML), readable alone;
 *   <name>.html.hbs  the HTML part, every `{{value}}` HTML-escaped, wrapped in layouts/email.html.hbs.
 * When the data has a `reference` (a notice, `TD-…`) the subject always carries it.
 * Every template also sees `baseUrl` (PUBLIC_BASE_URL) and `productName`.
 */

export const emailTemplatesDir = path.join(viewsDir, 'emails');
const LAYOUT_HTML = 'layouts/email.html.hbs';
const LAYOUT_TEXT = 'layouts/email.txt.hbs';
const NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const SUBJECT_LINE = /^\s*\{\{!--\s*subject:\s*([\s\S]*?)\s*--\}\}[ \t]*\r?\n?/;
export const SUBJECT_MAX = 200;

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

export interface EmailRenderer {
  render(template: string, data: Record<string, unknown>): RenderedEmail;
  /** Whether both files of the template exist. */
  has(template: string): boolean;
}

export interface RendererOptions {
  baseUrl: string;
  productName?: string;
  /** Where templates are looked up, in order (tests add a fixtures folder). Layouts come from the first. */
  dirs?: string[];
  /** Keep compiled templates (production); otherwise files are re-read so edits show at once. */
  cache?: boolean;
}

/** A template name is a kebab-case event name, never a path. */
export function isTemplateName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= 100 && NAME.test(name);
}

/** Template names found in a folder (both files present). */
export function listTemplates(dir = emailTemplatesDir): string[] {
  if (!existsSync(dir)) return [];
  const files = new Set(readdirSync(dir));
  return [...files]
    .filter((f) => f.endsWith('.html.hbs'))
    .map((f) => f.slice(0, -'.html.hbs'.length))
    .filter((n) => isTemplateName(n) && files.has(`${n}.txt.hbs`))
    .sort();
}

/** One line, no control characters (CR/LF would start a new header), bounded. */
export function cleanHeaderText(s: string, max = SUBJECT_MAX): string {
  const one = s
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return one.length > max ? one.slice(0, max - 1).trimEnd() + '…' : one;
}

/** Only http(s) URLs may become links; anything else (javascript:, data:) renders as nothing. */
export function httpUrl(u: unknown): string {
  const s = typeof u === 'string' ? u.trim() : '';
  return /^https?:\/\/[^\s]+$/i.test(s) ? s : '';
}

interface Compiled {
  subject: HandlebarsTemplateDelegate;
  html: HandlebarsTemplateDelegate;
  text: HandlebarsTemplateDelegate;
}

export function createEmailRenderer(opts: RendererOptions): EmailRenderer {
  const hbs = Handlebars.create();
  hbs.registerHelper(pageHelpers);
  hbs.registerHelper('httpUrl', httpUrl);
  const dirs = opts.dirs ?? [emailTemplatesDir];
  const globals = { baseUrl: opts.baseUrl.replace(/\/+$/, ''), productName: opts.productName ?? 'Takedown Desk' };
  const cache = new Map<string, Compiled>();
  let layouts: { html: HandlebarsTemplateDelegate; text: HandlebarsTemplateDelegate } | undefined;

  const read = (file: string) => readFileSync(file, 'utf8');
  const layoutsNow = () => {
    if (layouts && opts.cache) return layouts;
    layouts = {
      html: hbs.compile(read(path.join(dirs[0], LAYOUT_HTML))),
      text: hbs.compile(read(path.join(dirs[0], LAYOUT_TEXT)), { noEscape: true }),
    };
    return layouts;
  };

  const locate = (name: string): string | undefined => {
    if (!isTemplateName(name)) return undefined;
    return dirs.find((d) => existsSync(path.join(d, `${name}.html.hbs`)) && existsSync(path.join(d, `${name}.txt.hbs`)));
  };

  const compile = (name: string): Compiled => {
    const hit = opts.cache ? cache.get(name) : undefined;
    if (hit) return hit;
    const dir = locate(name);
    if (!dir)
      throw new AppError('MAIL.TEMPLATE_NOT_FOUND', `Email template "${String(name).slice(0, 100)}" not found in views/emails.`, 500);
    const textSource = read(path.join(dir, `${name}.txt.hbs`));
    const m = SUBJECT_LINE.exec(textSource);
    if (!m) {
      throw new AppError('MAIL.TEMPLATE_INVALID', `Email template "${name}": ${name}.txt.hbs must start with {{!-- subject: … --}}.`, 500);
    }
    const compiled: Compiled = {
      subject: hbs.compile(m[1], { noEscape: true }),
      text: hbs.compile(textSource.slice(m[0].length), { noEscape: true }),
      html: hbs.compile(read(path.join(dir, `${name}.html.hbs`))),
    };
    if (opts.cache) cache.set(name, compiled);
    return compiled;
  };

  return {
    has: (name) => locate(name) !== undefined,
    render(name, data) {
      const t = compile(name);
      const ctx = { ...globals, ...data };
      let subject = cleanHeaderText(t.subject(ctx));
      const ref = typeof data.reference === 'string' ? cleanHeaderText(data.reference, 40) : '';
      if (ref && !subject.includes(ref)) subject = cleanHeaderText(`[${ref}] ${subject}`);
      const l = layoutsNow();
      const html = l.html({ ...ctx, subject, body: t.html(ctx) });
      const text =
        l
          .text({ ...ctx, subject, body: t.text(ctx).trim() })
          .replace(/\n{3,}/g, '\n\n')
          .trim() + '\n';
      return { subject, html, text };
    },
  };
}
