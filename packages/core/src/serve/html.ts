/**
 * HTML for `batt serve`'s pages. Every value put into a page goes through `html`, which escapes
 * it (and shows control characters and direction overrides as escapes, as the terminal does);
 * only another `html` result is taken as markup. A database named `<img src=x onerror=…>` is
 * therefore text wherever it appears, and the pages need no script at all (the CSP allows none
 * inline).
 */
import { printable } from '../text/printable.js';

/** Markup made by `html`: the one thing inserted without escaping. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text as HTML, every character that could start markup or end an attribute escaped. */
export const escapeHtml = (text: string): string => printable(text).replace(/[&<>"']/g, (c) => entities[c]);

function render(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/** A template whose values are escaped; arrays are joined, null/undefined/false render as nothing. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  return new Html(strings.reduce((out, s, i) => out + render(values[i - 1]) + s));
}

/** A tool's output in a `<pre>`: its lines kept, each escaped. */
export const preformatted = (text: string): Html => new Html(text.split('\n').map(escapeHtml).join('\n'));

/** A path with each part encoded, for links built from names (`/targets/file/%2Fetc`). */
export const link = (...parts: (string | number)[]): string => '/' + parts.map((p) => encodeURIComponent(String(p))).join('/');

/** A whole page: header with navigation, the body, and the one stylesheet. */
export function page(title: string, host: string, body: Html): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta http-equiv="refresh" content="300" />
        <title>${title} · batt on ${host}</title>
        <link rel="stylesheet" href="/static/batt.css" />
        <link rel="icon" href="/static/batt.svg" />
      </head>
      <body>
        <header>
          <a class="brand" href="/">batt</a>
          <nav><a href="/">Overview</a><a href="/runs">Runs</a></nav>
          <span class="host">${host}</span>
        </header>
        <main>${body}</main>
        <footer>Read-only view of the catalog · <a href="/api/overview">JSON API</a></footer>
      </body>
    </html> `;
}

/** Seconds for people: 0.35s, 4.2s, 42s, 5m 03s, 3h 12m, 4d 6h. */
export function spokenSeconds(seconds: number): string {
  if (seconds < 10) return `${Number(seconds.toFixed(seconds < 1 ? 2 : 1))}s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** A table's head: a cell per column, the columns named in `numeric` right-aligned. */
export const thead = (columns: readonly string[], numeric: readonly string[] = []): Html =>
  html`<thead>
    <tr>
      ${columns.map((c) => (numeric.includes(c) ? html`<th class="num">${c}</th>` : html`<th>${c}</th>`))}
    </tr>
  </thead>`;

/** A status as a coloured word (the stylesheet has a class per status). */
export const badge = (word: string): Html => html`<span class="badge ${word}">${word}</span>`;

/** A backup's or a run's status, and `suspect` beside it when it is. */
export const statusBadges = (status: string, suspect: unknown): Html => html`${badge(status)}${suspect ? html` ${badge('suspect')}` : ''}`;

/** The time from `start` to `end` for people; `-` while it has not ended. */
export const took = (start: string, end: string | null): string => (end ? spokenSeconds((Date.parse(end) - Date.parse(start)) / 1000) : '-');

/** An ISO time as local `YYYY-MM-DD HH:MM`, in a <time> whose datetime is exact. */
export function time(iso: string | null | undefined): Html {
  if (!iso) return html`<span class="none">-</span>`;
  const d = new Date(iso);
  const p = (n: number): string => String(n).padStart(2, '0');
  return html`<time datetime="${iso}">${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}</time>`;
}

/** The favicon: a small disk. */
export const icon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect x="1" y="3" width="14" height="10" rx="2" fill="#111827"/><circle cx="12" cy="8" r="1.5" fill="#81c784"/></svg>`;

/** The one stylesheet (served from /static/batt.css: the CSP allows no inline style). */
export const css = `
:root { color-scheme: light; --ok: #2e7d32; --bad: #c62828; --warn: #ef6c00; --info: #1565c0; --muted: #6b7280; --line: #e5e7eb; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111827; background: #f9fafb; }
header { display: flex; gap: 1.5rem; align-items: baseline; padding: .6rem 1.5rem; background: #111827; color: #f9fafb; }
header a { color: #f9fafb; text-decoration: none; } header nav a { margin-right: 1rem; opacity: .85; } .brand { font-weight: 700; font-size: 1.1rem; }
.host { margin-left: auto; opacity: .7; }
main { padding: 1rem 1.5rem; max-width: 1200px; }
footer { padding: 1rem 1.5rem; color: var(--muted); font-size: 12px; }
h1 { font-size: 1.3rem; margin: .4rem 0 1rem; } h2 { font-size: 1.05rem; margin: 1.6rem 0 .5rem; }
a { color: var(--info); }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td.num, time, .badge { white-space: nowrap; }
th { font-weight: 600; color: #374151; background: #f3f4f6; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.mono, code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 12px; }
pre { background: #f3f4f6; padding: .5rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; margin: .3rem 0; }
.banner { padding: .7rem 1rem; border-radius: 6px; margin-bottom: 1rem; font-weight: 600; }
.banner.good { background: #e8f5e9; color: var(--ok); } .banner.bad { background: #ffebee; color: var(--bad); }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: 12px; font-weight: 600; background: #e5e7eb; }
.badge.ok, .badge.verified { background: #e8f5e9; color: var(--ok); } .badge.failed, .badge.aborted, .badge.never { background: #ffebee; color: var(--bad); }
.badge.partial, .badge.suspect, .badge.late, .badge.running { background: #fff3e0; color: var(--warn); }
tr.bad td:first-child { border-left: 4px solid var(--bad); } tr.warn td:first-child { border-left: 4px solid var(--warn); } tr.good td:first-child { border-left: 4px solid var(--ok); }
.late { color: var(--warn); font-weight: 600; } .none { color: var(--muted); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; background: #fff; border: 1px solid var(--line); padding: .7rem 1rem; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
form.filters { display: flex; gap: .8rem; align-items: end; flex-wrap: wrap; margin-bottom: 1rem; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
.pager { margin-top: .8rem; }
svg.strip { width: 100%; max-width: 900px; height: auto; display: block; }
svg.strip rect.none { fill: #e5e7eb; } svg.strip rect.ok { fill: #81c784; } svg.strip rect.verified { fill: var(--ok); }
svg.strip rect.partial, svg.strip rect.suspect { fill: #ffb74d; } svg.strip rect.failed { fill: var(--bad); }
.legend span { margin-right: 1rem; font-size: 12px; color: var(--muted); } .legend i { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: -1px; border-radius: 2px; }
.legend i.none { background: #e5e7eb; } .legend i.ok { background: #81c784; } .legend i.verified { background: var(--ok); } .legend i.partial { background: #ffb74d; } .legend i.failed { background: var(--bad); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 1rem; }
figure { margin: 0; background: #fff; border: 1px solid var(--line); padding: .5rem; } figcaption { font-weight: 600; font-size: 13px; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart .grid { stroke: var(--line); } svg.chart .axis { fill: var(--muted); font-size: 10px; }
svg.chart polyline { fill: none; stroke: var(--info); stroke-width: 1.5; }
svg.chart circle { fill: var(--info); } svg.chart circle.failed { fill: var(--bad); } svg.chart circle.suspect { fill: var(--warn); }
`;
