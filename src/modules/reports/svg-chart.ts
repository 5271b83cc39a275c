/**
 * Server-rendered SVG bar charts for the public report: no client library, no script, no style
 * attributes (a strict CSP `style-src 'self'` blocks those) — presentation attributes only. Every
 * text is XML-escaped here; the result is safe to place in a page unescaped.
 */

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export interface Series {
  name: string;
  /** A fill colour, e.g. `#1f6feb`. Only `#rrggbb` is accepted. */
  color: string;
  values: number[];
}

export interface BarChart {
  /** An id unique on the page (for aria-labelledby). */
  id: string;
  title: string;
  /** What the chart shows, read out by screen readers. */
  description: string;
  labels: string[];
  series: Series[];
  /** Stack the series in one bar per label (default), or put them side by side. */
  stacked?: boolean;
  unit?: string;
}

const W = 720;
const H = 260;
const PAD = { top: 16, right: 12, bottom: 56, left: 48 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

export function barChart(c: BarChart): string {
  const stacked = c.stacked ?? true;
  for (const s of c.series) if (!/^#[0-9a-f]{6}$/i.test(s.color)) throw new Error(`bad colour ${s.color}`);
  const n = c.labels.length;
  const totals = c.labels.map((_, i) =>
    stacked ? c.series.reduce((a, s) => a + (s.values[i] ?? 0), 0) : Math.max(0, ...c.series.map((s) => s.values[i] ?? 0)),
  );
  const max = niceMax(Math.max(0, ...totals));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = n ? plotW / n : plotW;
  const barW = Math.max(2, slot * 0.7);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H + 24 + 18 * Math.ceil(c.series.length / 4)}" width="100%" role="img" aria-labelledby="${c.id}-t ${c.id}-d" font-family="sans-serif" font-size="12">`,
    `<title id="${c.id}-t">${escapeXml(c.title)}</title>`,
    `<desc id="${c.id}-d">${escapeXml(c.description)}</desc>`,
  );
  // Axis and grid: 4 steps.
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    const yy = y(v).toFixed(1);
    out.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${yy}" y2="${yy}" stroke="#d0d7de" stroke-width="1"/>`);
    out.push(`<text x="${PAD.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle" fill="#444">${escapeXml(fmt(v))}</text>`);
  }
  c.labels.forEach((label, i) => {
    const x0 = PAD.left + i * slot + (slot - barW) / 2;
    let base = 0;
    c.series.forEach((s, k) => {
      const v = s.values[i] ?? 0;
      if (v <= 0) return;
      const w = stacked ? barW : barW / c.series.length;
      const x = stacked ? x0 : x0 + k * w;
      const top = y(base + v);
      const h = y(base) - top;
      out.push(
        `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${w.toFixed(1)}" height="${Math.max(0.5, h).toFixed(1)}" fill="${s.color}">` +
          `<title>${escapeXml(`${label}: ${s.name} ${fmt(v)}${c.unit ? ` ${c.unit}` : ''}`)}</title></rect>`,
      );
      if (stacked) base += v;
    });
    const lx = (PAD.left + i * slot + slot / 2).toFixed(1);
    out.push(`<text x="${lx}" y="${H - PAD.bottom + 16}" text-anchor="middle" fill="#444">${escapeXml(label)}</text>`);
  });
  if (c.unit) out.push(`<text x="4" y="${PAD.top - 4}" fill="#444">${escapeXml(c.unit)}</text>`);
  // Legend under the plot.
  c.series.forEach((s, k) => {
    const lx = PAD.left + (k % 4) * 165;
    const ly = H - 8 + Math.floor(k / 4) * 18;
    out.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${s.color}"/>`);
    out.push(`<text x="${lx + 16}" y="${ly}" fill="#222">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('');
}
