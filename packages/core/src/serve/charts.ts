/**
 * The dashboard's charts, drawn on the server as SVG: no script, no library, nothing fetched by
 * the browser. A line chart of a value over time (one circle per backup, each a link to its run
 * with its figures as a tooltip) and the strip of daily outcomes.
 */
import type { DayOutcome } from './api.js';
import { html, type Html } from './html.js';

export interface Point {
  /** Epoch ms. */
  at: number;
  value: number;
  /** The circle's class: ok, failed, suspect. */
  kind: string;
  href: string;
  label: string;
}

const W = 600;
const H = 180;
const pad = { left: 64, right: 12, top: 10, bottom: 26 };

const shortDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** A line chart; `format` writes the y axis' labels. Points come in any order; `data-points` counts them. */
export function lineChart(title: string, points: readonly Point[], format: (v: number) => string): Html {
  if (points.length === 0)
    return html`<figure>
      <figcaption>${title}</figcaption>
      <p class="none">No backups to draw.</p>
    </figure>`;
  const sorted = [...points].sort((a, b) => a.at - b.at);
  const [t0, t1] = [sorted[0].at, sorted[sorted.length - 1].at];
  const top = Math.max(...sorted.map((p) => p.value)) || 1;
  const x = (at: number): number => pad.left + (t1 === t0 ? (W - pad.left - pad.right) / 2 : ((at - t0) / (t1 - t0)) * (W - pad.left - pad.right));
  const y = (v: number): number => pad.top + (1 - v / top) * (H - pad.top - pad.bottom);
  const ticks = [0, 0.5, 1].map((f) => f * top);
  const r = (n: number): string => n.toFixed(1);
  return html`<figure>
    <figcaption>${title}</figcaption>
    <svg class="chart" data-points="${sorted.length}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${title}">
      ${ticks.map((v) => html`<line class="grid" x1="${pad.left}" x2="${W - pad.right}" y1="${r(y(v))}" y2="${r(y(v))}" /><text class="axis" x="${pad.left - 6}" y="${r(y(v) + 3)}" text-anchor="end">${format(v)}</text>`)}
      <text class="axis" x="${pad.left}" y="${H - 8}">${shortDate(t0)}</text>
      <text class="axis" x="${W - pad.right}" y="${H - 8}" text-anchor="end">${shortDate(t1)}</text>
      <polyline points="${sorted.map((p) => `${r(x(p.at))},${r(y(p.value))}`).join(' ')}" />
      ${sorted.map(
        (p) =>
          html`<a href="${p.href}"
            ><circle class="${p.kind}" cx="${r(x(p.at))}" cy="${r(y(p.value))}" r="3.5"><title>${p.label}</title></circle></a
          >`,
      )}
    </svg>
  </figure>`;
}

const cell = 10;

/** One square per day, oldest on the left, coloured by the day's outcome; a tooltip gives its counts. */
export function outcomeStrip(days: readonly DayOutcome[]): Html {
  const width = days.length * cell;
  return html`<svg class="strip" data-days="${days.length}" viewBox="0 0 ${width} ${cell + 2}" role="img" aria-label="daily outcomes, last ${days.length} days">
      ${days.map(
        (d, i) =>
          html`<rect class="${d.outcome}" x="${i * cell + 1}" y="1" width="${cell - 2}" height="${cell}" rx="2"
            ><title>${d.day}: ${d.outcome}${d.outcome === 'none' ? ', no backup' : ` (${d.ok} ok, ${d.failed} failed, ${d.suspect} suspect, ${d.verified} proven)`}</title></rect
          >`,
      )}
    </svg>
    <div class="legend">
      ${['verified', 'ok', 'partial', 'failed', 'none'].map((o) => html`<span><i class="${o}"></i>${o === 'partial' ? 'partial or suspect' : o === 'none' ? 'no backup' : o}</span>`)}
    </div>`;
}
