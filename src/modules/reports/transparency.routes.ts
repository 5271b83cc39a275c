import { Router } from 'express';
import type { AppDeps } from '../../deps';
import { AppError } from '../../shared/errors';
import { LIST_KEYS, publicCacheHeaders } from '../../shared/http-cache';
import { barChart } from './svg-chart';
import { CLAIM_TYPES, MonthFigures, OUTCOMES, publicNoticeRecord, transparencyReport } from './transparency';

const TYPE_COLORS: Record<string, string> = {
  copyright: '#1f6feb',
  trademark: '#8250df',
  defamation: '#bf3989',
  privacy: '#bc4c00',
  other: '#6e7781',
};
const OUTCOME_COLORS: Record<string, string> = {
  removed: '#cf222e',
  partly_removed: '#fb8f44',
  restored: '#2da44e',
  rejected: '#0969da',
  withdrawn: '#8c959f',
  spam: '#57606a',
  open: '#d4a72c',
};
export const OUTCOME_LABELS: Record<string, string> = {
  removed: 'Removed',
  partly_removed: 'Partly removed',
  restored: 'Restored',
  rejected: 'Rejected',
  withdrawn: 'Withdrawn',
  spam: 'Spam',
  open: 'Still open',
};
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The charts of the report, oldest month on the left. */
export function reportCharts(figures: MonthFigures[]) {
  const months = [...figures].reverse();
  const labels = months.map((m) => m.month);
  return {
    received: barChart({
      id: 'chart-received',
      title: 'Notices received per month, by claim type',
      description: months.map((m) => `${m.month}: ${m.received.total} notices`).join('; ') || 'No notices yet.',
      labels,
      series: CLAIM_TYPES.map((k) => ({ name: cap(k), color: TYPE_COLORS[k], values: months.map((m) => m.received[k]) })),
    }),
    outcomes: barChart({
      id: 'chart-outcomes',
      title: 'Outcome of the notices received each month',
      description:
        months.map((m) => `${m.month}: ${OUTCOMES.map((o) => `${OUTCOME_LABELS[o]} ${m.outcomes[o]}`).join(', ')}`).join('; ') ||
        'No notices yet.',
      labels,
      series: OUTCOMES.map((o) => ({ name: OUTCOME_LABELS[o], color: OUTCOME_COLORS[o], values: months.map((m) => m.outcomes[o]) })),
    }),
    urls: barChart({
      id: 'chart-urls',
      title: 'URLs removed and restored per month',
      stacked: false,
      description:
        months
          .map((m) => `${m.month}: ${m.urlsRemoved} removed, ${m.urlsRestored} restored, ${m.imagesRemoved} images removed`)
          .join('; ') || 'None yet.',
      labels,
      series: [
        { name: 'Removed', color: '#cf222e', values: months.map((m) => m.urlsRemoved) },
        { name: 'Restored', color: '#2da44e', values: months.map((m) => m.urlsRestored) },
        { name: 'Images removed', color: '#bf8700', values: months.map((m) => m.imagesRemoved) },
        { name: 'Counter-notices', color: '#8250df', values: months.map((m) => m.counterNotices) },
      ],
    }),
    time: barChart({
      id: 'chart-time',
      title: 'Time to decision per month (hours)',
      stacked: false,
      unit: 'hours',
      description:
        months.map((m) => `${m.month}: median ${m.medianHours ?? 'n/a'} h, 90th percentile ${m.p90Hours ?? 'n/a'} h`).join('; ') ||
        'No decisions yet.',
      labels,
      series: [
        { name: 'Median', color: '#0969da', values: months.map((m) => m.medianHours ?? 0) },
        { name: '90th percentile', color: '#54aeff', values: months.map((m) => m.p90Hours ?? 0) },
      ],
    }),
  };
}

/** The public transparency report and the public record of each notice. No session, GET only. */
export function transparencyRoutes(deps: AppDeps): Router {
  const r = Router();

  r.get('/transparency', async (req, res) => {
    const figures = await transparencyReport(deps.db.manager, { now: deps.clock.now() });
    // Removals and restorations purge it at once (key `transparency`); other decisions (a rejection)
    // change only its counts, which shared caches may show up to 5 minutes late.
    res.set(publicCacheHeaders(deps.config.edge, [LIST_KEYS.transparency], { edgeMaxAge: Math.min(deps.config.edge.edgeMaxAge, 300) }));
    res.vary('Accept');
    if (req.accepts(['html', 'json']) === 'json') return res.json({ months: figures });
    res.render('transparency/index', {
      title: 'Transparency report',
      months: figures.map((m) => ({
        ...m,
        receivedCells: CLAIM_TYPES.map((k) => m.received[k]),
        outcomeCells: OUTCOMES.map((o) => m.outcomes[o]),
      })),
      claimTypes: CLAIM_TYPES.map(cap),
      outcomeNames: OUTCOMES.map((o) => OUTCOME_LABELS[o]),
      charts: reportCharts(figures),
    });
  });

  r.get('/transparency/notices/:reference', async (req, res) => {
    const reference = String(req.params.reference).toUpperCase();
    const record = /^TD-\d{6,}$/.test(reference) ? await publicNoticeRecord(deps.db.manager, reference) : null;
    if (!record) throw AppError.notFound('Notice', 'NOTICE.NOT_FOUND');
    // Always the current state: a removal that was later restored must never show as removed.
    res.setHeader('Cache-Control', 'no-cache');
    if (req.accepts(['html', 'json']) === 'json') return res.json(record);
    res.render('transparency/notice', { title: `Notice ${record.reference}`, record });
  });
  return r;
}
