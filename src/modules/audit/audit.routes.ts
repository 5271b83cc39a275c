import { Request, RequestHandler, Response, Router } from 'express';
import type { AppDeps } from '../../deps';
import { AppError, FieldError } from '../../shared/errors';
import { noStore, requestContext } from '../../shared/http';

import { AuditRow, parseAuditQuery, parseDate, searchAudit, subjectLink } from './audit.queries';
import { AuditExportFormat, describeFilter, exportAuditEvents, recordExport } from './export-audit';
import { exportDsaStatements, exportLumenNotices, NoticeRange } from '../reports';
import { sealAuditChain } from './seal-chain';
import { verifyAuditChain } from './verify-chain';
import { requireBearer, requireFreshProof, requireRole, requireStaff } from '../../http/guards';
import { actorFrom } from '../../http/actor';

async function verifyNow(deps: AppDeps) {
  await sealAuditChain(deps.db); // include what committed a moment ago
  return verifyAuditChain(deps.db);
}

/** A short readable line of an event's details for the history table. */
export function summariseDetails(details: Record<string, unknown>): string {
  const parts = Object.entries(details ?? {}).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  const s = parts.join('; ');
  return s.length > 300 ? `${s.slice(0, 299)}…` : s;
}

export function eventJson(e: AuditRow) {
  return { ...e, link: subjectLink(e.subjectType, e.subjectId) };
}

/** Range and `full` of the notice exports; anything else is a 400 naming the field. */
function parseNoticeExport(query: Record<string, unknown>): { range: NoticeRange; full: boolean } {
  const errors: FieldError[] = [];
  const range: NoticeRange = {};
  let full = false;
  for (const [k, v] of Object.entries(query)) {
    if (v === '' || v === undefined) continue;
    if (typeof v !== 'string') {
      errors.push({ field: k, message: `${k} must be given once, as text.` });
      continue;
    }
    if (k === 'from' || k === 'to') {
      const d = parseDate(v.trim(), k === 'to');
      if (!d) errors.push({ field: k, message: `${k} must be a date (YYYY-MM-DD) or an ISO 8601 time with a zone.` });
      else range[k] = d;
    } else if (k === 'full') {
      if (!['1', 'true', 'on', '0', 'false'].includes(v)) errors.push({ field: 'full', message: 'full must be true or false.' });
      else full = ['1', 'true', 'on'].includes(v);
    } else if (k !== 'format' && k !== '_csrf') errors.push({ field: k, message: `${k} is not a parameter of this export.` });
  }
  if (errors.length) throw AppError.badRequest('The export parameters are not valid.', errors);
  return { range, full };
}

const stamp = () => new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '');

function startDownload(res: Response, type: string, filename: string) {
  res.status(200);
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Disposition', `attachment; filename="${filename}"`);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
}

/**
 * Every export: parse (400 before anything is written), audit it (committed before the first
 * byte), then stream. A failure after the headers went out can only cut the stream short.
 */
async function auditEventsExport(deps: AppDeps, req: Request, res: Response, format: AuditExportFormat, params: Record<string, unknown>) {
  const filter = await parseAuditQuery(deps.db.manager, params, ['format', '_csrf']);
  await recordExport(deps.db, {
    actor: actorFrom(req),
    what: 'audit_events',
    format,
    filter: describeFilter(filter),
    context: requestContext(req),
    at: deps.clock.now(),
  });
  if (format === 'csv') startDownload(res, 'text/csv; charset=utf-8; header=present', `audit-events-${stamp()}.csv`);
  else startDownload(res, 'application/x-ndjson; charset=utf-8', `audit-events-${stamp()}.jsonl`);
  await exportAuditEvents(deps.db, filter, format, res);
  res.end();
}

async function noticesExport(deps: AppDeps, req: Request, res: Response, kind: 'lumen' | 'dsa', params: Record<string, unknown>) {
  const { range, full } = parseNoticeExport(params);
  await recordExport(deps.db, {
    actor: actorFrom(req),
    what: kind === 'lumen' ? 'notices' : 'decisions',
    format: kind,
    filter: { from: range.from?.toISOString(), to: range.to?.toISOString() },
    full,
    context: requestContext(req),
    at: deps.clock.now(),
  });
  const site = new URL(deps.config.publicBaseUrl).host;
  if (kind === 'lumen') {
    startDownload(res, 'application/json; charset=utf-8', `notices-lumen-${stamp()}.json`);
    await exportLumenNotices(deps.db, range, full, site, res);
  } else {
    startDownload(res, 'application/x-ndjson; charset=utf-8', `decisions-dsa-${stamp()}.jsonl`);
    await exportDsaStatements(deps.db, range, full, site, res);
  }
  res.end();
}

function exportFormat(v: unknown): AuditExportFormat {
  if (v === 'csv' || v === 'jsonl') return v;
  throw AppError.badRequest('Choose an export format.', [{ field: 'format', message: 'format must be csv or jsonl.' }]);
}

/** Staff pages of the audit module (admin). */
export function auditPages(deps: AppDeps): Router {
  const r = Router();
  r.use('/audit', noStore, requireStaff, requireRole('admin'));

  r.get('/audit', async (req, res) => {
    const query = req.query as Record<string, unknown>;
    const q = await parseAuditQuery(deps.db.manager, query);
    const { events, next } = await searchAudit(deps.db.manager, q);
    const keep = new URLSearchParams();
    for (const k of ['actor', 'action', 'subject', 'from', 'to', 'q'] as const) {
      const v = query[k];
      if (typeof v === 'string' && v.trim()) keep.set(k, v.trim());
    }
    const nextQs = new URLSearchParams(keep);
    if (next) nextQs.set('after', next);
    res.render('audit/index', {
      title: 'Audit history',
      values: Object.fromEntries(keep),
      events: events.map((e) => ({ ...e, link: subjectLink(e.subjectType, e.subjectId), summary: summariseDetails(e.details) })),
      nextUrl: next ? `/audit?${nextQs.toString()}` : null,
      paged: !!q.after,
      // The export form posts the same filters back (hidden fields): an export is audited, so it
      // is a CSRF-protected POST, never a link a third-party page could make an admin follow.
      exportFilters: [...keep.entries()].map(([name, value]) => ({ name, value })),
    });
  });

  r.get('/audit/verify', async (_req, res) => {
    res.render('audit/verify', { title: 'Audit chain verification', result: await verifyNow(deps) });
  });

  // Exports change something (each is recorded as `audit.exported`, and the full record carries
  // personal data), so on the staff side they are POST forms with the CSRF token: a link, an
  // <img> or a prefetch from another site can never start one with an admin's session cookie.
  const body = (req: Request) => (req.body ?? {}) as Record<string, unknown>;
  // The full (unredacted) record also needs a fresh proof of identity (SPEC §17): the audit events
  // always, the notice exports when `full` is asked for.
  const freshForEvents = requireFreshProof(deps.clock, '/audit');
  const freshForFull = requireFreshProof(deps.clock, '/audit/exports');
  const whenFull: RequestHandler = (req, res, next) =>
    ['1', 'true', 'on'].includes(String(body(req).full)) ? freshForFull(req, res, next) : next();
  r.post('/audit/export', freshForEvents, (req, res) => auditEventsExport(deps, req, res, exportFormat(body(req).format), body(req)));
  r.get('/audit/exports', (_req, res) => res.render('audit/exports', { title: 'Exports' }));
  r.post('/audit/exports/notices', whenFull, (req, res) => noticesExport(deps, req, res, 'lumen', body(req)));
  r.post('/audit/exports/decisions', whenFull, (req, res) => noticesExport(deps, req, res, 'dsa', body(req)));
  return r;
}

/** Staff API of the audit module (admin). */
export function auditApi(deps: AppDeps): Router {
  const r = Router();
  r.use('/audit', requireBearer(deps.db), requireRole('admin'));

  r.get('/audit', async (req, res) => {
    const q = await parseAuditQuery(deps.db.manager, req.query as Record<string, unknown>);
    const { events, next } = await searchAudit(deps.db.manager, q);
    res.json({ events: events.map(eventJson), next });
  });

  r.get('/audit/verify', async (_req, res) => {
    const { ok, events, firstBadSequence, problem, unsealed } = await verifyNow(deps);
    res.json({ ok, events, firstBadSequence, problem, unsealed });
  });

  // The API takes no cookies (bearer tokens only), so no other site can make a client call these:
  // they stay GET with query parameters, as clients already use them.
  const query = (req: Request) => req.query as Record<string, unknown>;
  r.get('/audit/export', (req, res) => auditEventsExport(deps, req, res, exportFormat(req.query.format), query(req)));
  r.get('/audit/exports/notices', (req, res) => noticesExport(deps, req, res, 'lumen', query(req)));
  r.get('/audit/exports/decisions', (req, res) => noticesExport(deps, req, res, 'dsa', query(req)));
  return r;
}
