/**
 * `batt serve`'s pages: the overview (`/`), one target (`/targets/<service>/<target>`) and the
 * list of runs (`/runs`). Each is drawn from the same object its JSON API answers with; one run's
 * page is in run-page.ts.
 */
import { humanBytes } from '../text/names.js';
import type { RunsPage, TargetDetail, TargetState, DayOutcome } from './api.js';
import { lineChart, outcomeStrip } from './charts.js';
import { badge, html, link, page, spokenSeconds, statusBadges, thead, time, took, type Html } from './html.js';

/** The first cells of a run's row: its number (a link to it), when it started, its status. */
const runCells = (id: number, startedAt: string, status: string, suspect: unknown): Html =>
  html`<td><a href="${link('runs', id)}">#${id}</a></td>
    <td>${time(startedAt)}</td>
    <td>${statusBadges(status, suspect)}</td>`;

/** What is wrong with a target, worst first: the badge's word and the row's class. */
export function verdict(t: TargetState): { word: string; row: 'bad' | 'warn' | 'good' } {
  if (!t.lastGood) return { word: 'never', row: 'bad' };
  if (t.failuresSince) return { word: 'failed', row: 'bad' };
  if (t.lastVerify?.status === 'failed' || t.lastDrill?.status === 'failed') return { word: 'failed', row: 'bad' };
  if (t.suspectSince) return { word: 'suspect', row: 'warn' };
  if (t.stale) return { word: 'late', row: 'warn' };
  return { word: t.lastDrill?.status === 'ok' || t.lastVerify?.status === 'ok' ? 'verified' : 'ok', row: 'good' };
}

const checkCell = (c: TargetState['lastVerify']): Html =>
  c ? html`${badge(c.status)} <a href="${link('runs', c.runId)}">${time(c.at)}</a>` : html`<span class="none">never</span>`;

function age(t: TargetState): Html {
  if (!t.lastGood) return html`<span class="late">no good backup</span>`;
  const text = `${spokenSeconds(t.lastGood.ageSeconds)} ago`;
  return t.stale ? html`<span class="late" title="older than max_age ${spokenSeconds(t.maxAgeSeconds)}">${text}</span>` : html`${text}`;
}

export function overviewPage(host: string, data: { targets: TargetState[]; days: DayOutcome[] }): Html {
  const attention = data.targets.filter((t) => verdict(t).row !== 'good');
  const banner =
    data.targets.length === 0
      ? html`<div class="banner bad">The catalog has no backup yet: run <code>batt</code>.</div>`
      : attention.length
        ? html`<div class="banner bad">${attention.length} of ${data.targets.length} targets need attention.</div>`
        : html`<div class="banner good">All ${data.targets.length} targets are backed up and within their max age.</div>`;
  const rows = data.targets.map((t) => {
    const v = verdict(t);
    return html`<tr class="${v.row}">
      <td>${badge(v.word)}</td>
      <td>${t.service}</td>
      <td><a href="${link('targets', t.service, t.target)}">${t.target}</a></td>
      <td>${t.lastGood ? html`<a href="${link('runs', t.lastGood.runId)}">${time(t.lastGood.at)}</a>` : html`<span class="none">-</span>`}</td>
      <td>${age(t)}</td>
      <td class="num">${humanBytes(t.lastGood?.bytes)}</td>
      <td>${t.lastGood?.copies.join(', ') || html`<span class="none">-</span>`}</td>
      <td>${checkCell(t.lastVerify)}</td>
      <td>${checkCell(t.lastDrill)}</td>
      <td class="num">${t.failuresSince || ''}</td>
      <td class="num">${t.suspectSince || ''}</td>
    </tr>`;
  });
  return page(
    'Overview',
    host,
    html`<h1>Is everything backed up?</h1>
      ${banner}
      <h2>Last ${data.days.length} days</h2>
      ${outcomeStrip(data.days)}
      <h2>Services and targets</h2>
      <table class="targets">
        ${thead(['', 'Service', 'Target', 'Last good backup', 'Age', 'Size', 'Copies', 'Last verify', 'Last restore drill', 'Failures since', 'Suspect'], ['Size', 'Failures since', 'Suspect'])}
        <tbody>
          ${rows}
        </tbody>
      </table>`,
  );
}

export function targetPage(host: string, d: TargetDetail): Html {
  const t = d.state;
  const points = (value: (h: TargetDetail['history'][number]) => number | null) =>
    d.history.flatMap((h) => {
      const v = value(h);
      if (v === null) return [];
      const kind = h.status !== 'ok' ? 'failed' : h.suspect ? 'suspect' : 'ok';
      const label = `${h.startedAt}: ${h.status}${h.suspect ? ' (suspect)' : ''}, ${humanBytes(h.bytes)}, ${h.seconds === null ? '-' : spokenSeconds(h.seconds)}`;
      return [{ at: Date.parse(h.startedAt), value: v, kind, href: link('runs', h.runId), label }];
    });
  return page(
    `${t.service} ${t.target}`,
    host,
    html`<h1>${badge(verdict(t).word)} ${t.service} · ${t.target}</h1>
      <dl class="facts">
        <dt>Last good backup</dt>
        <dd>${t.lastGood ? html`<a href="${link('runs', t.lastGood.runId)}">${time(t.lastGood.at)}</a>, ${age(t)}` : age(t)}</dd>
        <dt>Max age</dt>
        <dd>${spokenSeconds(t.maxAgeSeconds)}</dd>
        <dt>Copies</dt>
        <dd>${t.lastGood?.copies.join(', ') || '-'}</dd>
        <dt>Last verify</dt>
        <dd>${checkCell(t.lastVerify)}</dd>
        <dt>Last restore drill</dt>
        <dd>${checkCell(t.lastDrill)}</dd>
        <dt>Since the last good one</dt>
        <dd>${t.failuresSince} failed, ${t.suspectSince} suspect</dd>
      </dl>
      <h2>Last ${d.days.length} days</h2>
      ${outcomeStrip(d.days)}
      <h2>The last ${d.history.length} backups</h2>
      <div class="charts">
        ${lineChart(
          'Size',
          points((h) => h.bytes),
          humanBytes,
        )}${lineChart(
          'Duration',
          points((h) => h.seconds),
          spokenSeconds,
        )}
      </div>
      <h2>Backups</h2>
      <table>
        ${thead(['Run', 'Started', 'Status', 'Size', 'Duration', 'Error'], ['Size', 'Duration'])}
        <tbody>
          ${d.history.map(
            (h) =>
              html`<tr>
                ${runCells(h.runId, h.startedAt, h.status, h.suspect)}
                <td class="num">${humanBytes(h.bytes)}</td>
                <td class="num">${h.seconds === null ? '-' : spokenSeconds(h.seconds)}</td>
                <td>${h.error ?? h.suspect ?? ''}</td>
              </tr>`,
          )}
        </tbody>
      </table>`,
  );
}

export interface RunsQuery {
  service?: string;
  status?: string;
  since?: string;
  until?: string;
  limit?: string;
}

/** The runs page: the filters as a GET form, a page of runs, and a link to the older ones (keyset). */
export function runsListPage(host: string, data: RunsPage, query: RunsQuery, services: readonly string[], statuses: readonly string[]): Html {
  const select = (name: string, values: readonly string[], chosen: string | undefined): Html =>
    html`<select name="${name}">
      <option value="">all</option>
      ${values.map((v) => html`<option value="${v}" ${v === chosen ? html`selected` : ''}>${v}</option>`)}
    </select>`;
  const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => Boolean(e[1])));
  if (data.next !== null) params.set('before', String(data.next));
  return page(
    'Runs',
    host,
    html`<h1>Runs</h1>
      <form class="filters" method="get" action="/runs">
        <label>Service ${select('service', services, query.service)}</label><label>Status ${select('status', statuses, query.status)}</label>
        <label>From <input type="date" name="since" value="${query.since ?? ''}" /></label
        ><label>To <input type="date" name="until" value="${query.until ?? ''}" /></label>
        ${query.limit ? html`<input type="hidden" name="limit" value="${query.limit}" />` : ''}<button type="submit">Filter</button> <a href="/runs">clear</a>
      </form>
      <table class="runs">
        ${thead(['Run', 'Started', 'Status', 'Services', 'Items', 'Failed', 'Size', 'Duration', 'Copies', 'Checked'], ['Items', 'Failed', 'Size', 'Duration'])}
        <tbody>
          ${data.runs.map(
            (r) =>
              html`<tr>
                ${runCells(r.id, r.startedAt, r.status, r.suspectItems)}
                <td>${r.services}</td>
                <td class="num">${r.items}</td>
                <td class="num">${r.failedItems || ''}</td>
                <td class="num">${humanBytes(r.bytes)}</td>
                <td class="num">${took(r.startedAt, r.finishedAt)}</td>
                <td>
                  ${Object.entries(r.copiesByStorage)
                    .map(([s, n]) => `${s} ${n}`)
                    .join(', ')}
                </td>
                <td>${r.checked ? badge(r.checked) : ''}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      ${data.runs.length === 0 ? html`<p class="none">No run matches.</p>` : ''}
      <p class="pager">${data.next !== null ? html`<a rel="next" href="/runs?${params.toString()}">Older runs →</a>` : html`<span class="none">No older runs.</span>`}</p>`,
  );
}
