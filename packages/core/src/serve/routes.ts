/**
 * What `batt serve` answers for a path (docs/serve.md): the pages, the JSON API behind each of
 * them, and the stylesheet. Pure over the catalog: the HTTP server, its guards and its headers
 * are the command's.
 */
import { catalogServices } from '../catalog/dashboard.js';
import type { CatalogDb } from '../catalog/db.js';
import { runStatuses, type RunStatus } from '../catalog/statuses.js';
import { overview, runDetail, runsPage, targetDetail, type ServeOptions } from './api.js';
import { css, html, icon, page } from './html.js';
import { overviewPage, runsListPage, targetPage, type RunsQuery } from './pages.js';
import { runPage } from './run-page.js';

export interface Answer {
  status: number;
  type: 'json' | 'html' | 'css' | 'svg';
  body: string;
}

export interface RouteContext extends ServeOptions {
  db: CatalogDb;
  /** This machine's name, in the pages' titles. */
  host: string;
}

const json = (status: number, body: unknown): Answer => ({ status, type: 'json', body: JSON.stringify(body) });
const day = /^\d{4}-\d{2}-\d{2}$/;

/** Local midnight of a YYYY-MM-DD day (`after`: of the day after), as ISO; undefined for a day that does not exist (2026-02-31). */
function midnight(text: string, after = false): string | undefined {
  const [y, m, d] = text.split('-').map(Number);
  const date = new Date(2000, m - 1, d);
  date.setFullYear(y); // years below 100 too
  if (date.getMonth() !== m - 1 || date.getDate() !== d) return undefined;
  date.setDate(d + (after ? 1 : 0));
  return date.toISOString();
}

type RunsFilter = Parameters<typeof runsPage>[1];

/** The runs filter from a query string, or what is wrong with it. */
function runsFilter(q: URLSearchParams): { filter: RunsFilter; query: RunsQuery } | { error: string } {
  const limit = Number(q.get('limit') || 50);
  const before = q.get('before') || undefined;
  const status = q.get('status') || undefined;
  const since = q.get('since') || undefined;
  const until = q.get('until') || undefined;
  const service = q.get('service') || undefined;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) return { error: 'limit is a whole number from 1 to 500' };
  if (before !== undefined && !/^\d+$/.test(before)) return { error: 'before is a run id' };
  if (status !== undefined && !(runStatuses as readonly string[]).includes(status)) return { error: `status is one of ${runStatuses.join(', ')}` };
  if ((since && !(day.test(since) && midnight(since))) || (until && !(day.test(until) && midnight(until)))) return { error: 'since and until are days: YYYY-MM-DD' };
  const filter = {
    service,
    status: status as RunStatus | undefined,
    limit,
    before: before === undefined ? undefined : Number(before),
    since: since && midnight(since),
    until: until && midnight(until, true),
  };
  return { filter, query: { service, status, since, until, limit: q.get('limit') || undefined } };
}

const decoded = (part: string): string | null => {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
};

/** The answer for `pathname` with its query `q`. */
export function route(ctx: RouteContext, pathname: string, q: URLSearchParams): Answer {
  const { db } = ctx;
  const parts = pathname.split('/').slice(1).map(decoded);
  const api = parts[0] === 'api';
  if (parts.includes(null)) return json(400, { error: 'the path is not valid percent-encoding' });
  const [what, ...rest] = (api ? parts.slice(1) : parts) as string[];
  const notFound = (message: string): Answer =>
    api
      ? json(404, { error: message })
      : {
          status: 404,
          type: 'html',
          body: page(
            'Not found',
            ctx.host,
            html`<h1>Not found</h1>
              <p>${message}</p>
              <p><a href="/">Overview</a></p>`,
          ).text,
        };
  const found = (data: unknown, draw: () => { text: string }): Answer => (api ? json(200, data) : { status: 200, type: 'html', body: draw().text });

  if (pathname === '/static/batt.css') return { status: 200, type: 'css', body: css };
  if (pathname === '/static/batt.svg' || pathname === '/favicon.ico') return { status: 200, type: 'svg', body: icon };
  if ((api && what === 'overview' && rest.length === 0) || (!api && pathname === '/')) {
    const data = overview(db, ctx);
    return found(data, () => overviewPage(ctx.host, data));
  }
  if (what === 'runs' && rest.length === 0) {
    const parsed = runsFilter(q);
    if ('error' in parsed)
      return api
        ? json(400, { error: parsed.error })
        : {
            status: 400,
            type: 'html',
            body: page(
              'Runs',
              ctx.host,
              html`<h1>Runs</h1>
                <p class="error">${parsed.error}</p>`,
            ).text,
          };
    const data = runsPage(db, parsed.filter);
    return found(data, () => runsListPage(ctx.host, data, parsed.query, catalogServices(db), runStatuses));
  }
  if (what === 'runs' && rest.length === 1 && /^\d+$/.test(rest[0])) {
    const run = runDetail(db, rest[0]);
    return run ? found(run, () => runPage(ctx.host, run)) : notFound(`no run ${rest[0]}`);
  }
  if (what === 'targets' && rest.length === 2) {
    const detail = targetDetail(db, rest[0], rest[1], ctx);
    return detail ? found(detail, () => targetPage(ctx.host, detail)) : notFound(`the catalog has no backup of ${rest[0]} ${rest[1]}`);
  }
  return notFound(
    api ? 'the API answers /api/overview, /api/runs, /api/runs/<id> and /api/targets/<service>/<target>' : 'the pages are /, /runs, /runs/<id> and /targets/<service>/<target>',
  );
}
