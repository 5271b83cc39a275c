import { Router } from 'express';
import type { AppDeps } from '../../deps';
import { noStore } from '../../shared/http';
import { requireRole, requireStaff } from '../../http/guards';
import { teamDashboard, TeamDashboard } from './dashboard';
import { barChart } from './svg-chart';

const STATUS_COLORS = { pending: '#d4a72c', in_review: '#1f6feb', needs_info: '#8250df' } as const;
const MODERATOR_COLORS = ['#1f6feb', '#cf222e', '#2da44e', '#8250df', '#bc4c00', '#bf3989', '#0a3069'];
const OTHERS_COLOR = '#8c959f';
const short = (day: string) => day.slice(5);

/** The dashboard's charts (the transparency report's SVG code) and the rows of the tables under them. */
export function dashboardView(d: TeamDashboard) {
  // Seven moderators get a colour each; the rest are summed as "others" (the table lists everyone).
  const top = d.moderators.slice(0, MODERATOR_COLORS.length);
  const rest = d.moderators.slice(MODERATOR_COLORS.length);
  const series = top.map((m, i) => ({ name: m.name, color: MODERATOR_COLORS[i], values: m.perDay }));
  if (rest.length)
    series.push({
      name: `${rest.length} others`,
      color: OTHERS_COLOR,
      values: d.days.map((_, i) => rest.reduce((a, m) => a + m.perDay[i], 0)),
    });
  return {
    charts: {
      backlog: barChart({
        id: 'chart-backlog',
        title: 'Open notices by age',
        description: d.backlog.map((b) => `${b.label}: ${b.total}`).join('; '),
        labels: d.backlog.map((b) => b.label),
        series: (['pending', 'in_review', 'needs_info'] as const).map((s) => ({
          name: s.replace('_', ' '),
          color: STATUS_COLORS[s],
          values: d.backlog.map((b) => b[s]),
        })),
      }),
      decisions: barChart({
        id: 'chart-decisions',
        title: `Decisions per moderator per day, ${d.from} to ${d.to}`,
        description: d.moderators.length
          ? d.moderators.map((m) => `${m.name}: ${m.total} decisions`).join('; ')
          : 'No decisions in these 30 days.',
        labels: d.days.map(short),
        series: series.length ? series : [{ name: 'decisions', color: OTHERS_COLOR, values: d.days.map(() => 0) }],
      }),
      time: barChart({
        id: 'chart-time',
        title: 'Time to decision per day: median and 90th percentile',
        description: `Over the 30 days: median ${d.timeToDecision.medianHours ?? '–'} hours, 90th percentile ${d.timeToDecision.p90Hours ?? '–'} hours.`,
        labels: d.days.map(short),
        stacked: false,
        unit: 'hours',
        series: [
          { name: 'Median', color: '#1f6feb', values: d.timeToDecision.perDay.map((p) => p.medianHours ?? 0) },
          { name: '90th percentile', color: '#bc4c00', values: d.timeToDecision.perDay.map((p) => p.p90Hours ?? 0) },
        ],
      }),
    },
    decisionRows: d.days.map((day, i) => ({
      day,
      cells: d.moderators.map((m) => m.perDay[i]),
      total: d.moderators.reduce((a, m) => a + m.perDay[i], 0),
    })),
  };
}

/**
 * The figures, computed at most once per `ttlMs` per instance (30 s; 0 in tests, where they are
 * exact). Computing them reads ~20,000 index entries per 30 days of a busy desk (~100-250 ms with a
 * million notices); moderators opening the page meanwhile get the last figures at once, refreshed
 * behind them. Figures older than five periods are never served: that visitor waits for new ones.
 */
export function dashboardFigures(
  deps: Pick<AppDeps, 'db' | 'clock' | 'config' | 'logger'>,
  ttlMs = deps.config.env === 'test' ? 0 : 30_000,
) {
  let last: { at: number; value: TeamDashboard } | null = null;
  let running: Promise<TeamDashboard> | null = null;
  const refresh = () =>
    (running ??= teamDashboard(deps.db.manager, deps.clock.now())
      .then((value) => {
        last = { at: Date.now(), value };
        return value;
      })
      .finally(() => (running = null)));
  return (): Promise<TeamDashboard> => {
    const age = last ? Date.now() - last.at : Infinity;
    if (last && age < ttlMs) return Promise.resolve(last.value);
    if (last && age < 5 * ttlMs) {
      refresh().catch((err) => deps.logger.warn({ err: String(err) }, 'dashboard: the figures could not be refreshed'));
      return Promise.resolve(last.value);
    }
    return refresh();
  };
}

/** `GET /dashboard` (staff; SPEC §15): the team's backlog and pace. */
export function dashboardRoutes(deps: AppDeps, figures = dashboardFigures(deps)): Router {
  const r = Router();
  r.get('/dashboard', noStore, requireStaff, requireRole('admin', 'moderator'), async (_req, res) => {
    const d = await figures();
    res.render('dashboard/index', { title: 'Team dashboard', d, ...dashboardView(d) });
  });
  return r;
}
