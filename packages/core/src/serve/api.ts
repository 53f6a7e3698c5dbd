/**
 * What `batt serve` answers (docs/serve.md), from the catalog alone: the overview (every service
 * and target with its last good backup, the worst news first), a page of runs (keyset paging, not
 * OFFSET), and one run with its items, checks and copies. The run's fields are those of
 * `batt show --json`, which prints `runDetail` too. Nothing here reads the configuration, so no
 * secret of it can reach a response.
 * Longer than 200 lines because the overview's verdict per target (never, failed, suspect, late,
 * ok, verified) and the day strip's outcome rules read best beside the objects they fill.
 */
import { copiesOf } from '../catalog/copies.js';
import { dailyCounts, latestChecks, localDay, targetHistory, targetRows, type DayCounts, type HistoryRow, type LatestCheck } from '../catalog/dashboard.js';
import type { CatalogDb } from '../catalog/db.js';
import { getRun, listRuns, type RunSummary } from '../catalog/queries.js';
import type { CheckRow, CopyRow, ItemRow, RunRow } from '../catalog/schema.js';
import type { RunStatus } from '../catalog/statuses.js';
import { checksOf } from '../restore/select.js';

const parse = (json: string | null): unknown => (json ? JSON.parse(json) : null);

export type RunDetail = RunRow & {
  items: (Omit<ItemRow, 'facts'> & {
    facts: unknown;
    checks: (Omit<CheckRow, 'details'> & { details: unknown })[];
    copies: Pick<CopyRow, 'storage' | 'key' | 'bytes' | 'sha256' | 'copiedAt'>[];
  })[];
};

/** One run with its items, each with its facts, checks and copies: `batt show --json` and `/api/runs/<id>`. */
export function runDetail(db: CatalogDb, ref: string): RunDetail | undefined {
  const found = getRun(db, ref);
  if (!found) return undefined;
  const ids = found.items.map((i) => i.id);
  const checks = checksOf(db, ids).map((c) => ({ ...c, details: parse(c.details) }));
  const copies = copiesOf(db, ids);
  return {
    ...found.run,
    items: found.items.map((i) => ({
      ...i,
      facts: parse(i.facts),
      checks: checks.filter((c) => c.itemId === i.id),
      copies: (copies.get(i.id) ?? []).map(({ storage, key, bytes, sha256, copiedAt }) => ({ storage, key, bytes, sha256, copiedAt })),
    })),
  };
}

export interface RunsPage {
  runs: RunSummary[];
  /** The `before` of the next page; null on the last. */
  next: number | null;
}

/** A page of runs, newest first, filtered; `before` is the `next` of the page before. */
export function runsPage(db: CatalogDb, filter: { service?: string; status?: RunStatus; limit: number; before?: number; since?: string; until?: string }): RunsPage {
  const runs = listRuns(db, { ...filter, last: filter.limit + 1 });
  const more = runs.length > filter.limit;
  const shown = runs.slice(0, filter.limit);
  return { runs: shown, next: more ? shown[shown.length - 1].id : null };
}

/** A check as the overview shows it: its result, when, and the backup it proved. */
export interface CheckState {
  status: string;
  at: string;
  runId: number;
  itemId: number;
}

export interface TargetState {
  service: string;
  target: string;
  /** The newest good backup: ok, with a file, not suspect. */
  lastGood: { runId: number; itemId: number; at: string; bytes: number | null; ageSeconds: number; copies: string[] } | null;
  /** How old the last good backup may be (`max_age`, else the schedule's period and a quarter). */
  maxAgeSeconds: number;
  /** No good backup, or the last one is older than maxAgeSeconds. */
  stale: boolean;
  /** Backups of this target that failed since the last good one. */
  failuresSince: number;
  /** Suspect backups since the last good one. */
  suspectSince: number;
  /** The newest verify and restore drill of any of the target's backups. */
  lastVerify: CheckState | null;
  lastDrill: CheckState | null;
}

/** One day of the outcome strip: its worst news. */
export interface DayOutcome {
  day: string;
  /** none (no backup that day), failed (all failed), partial (some failed), suspect, ok, verified (every good one proven). */
  outcome: 'none' | 'failed' | 'partial' | 'suspect' | 'ok' | 'verified';
  ok: number;
  failed: number;
  suspect: number;
  verified: number;
}

export interface ServeOptions {
  now?: number;
  /** Seconds the last good backup of a service's target may be old. */
  maxAge: (service: string) => number;
  /** How many days the outcome strip covers [90]. */
  days?: number;
}

const check = (c: LatestCheck | undefined): CheckState | null => (c ? { status: c.status, at: c.at, runId: c.runId, itemId: c.itemId } : null);

/** Every service and target the catalog knows, the worst news first, and the daily outcomes of all of them. */
export function overview(db: CatalogDb, options: ServeOptions): { targets: TargetState[]; days: DayOutcome[] } {
  const now = options.now ?? Date.now();
  // `*` stands for a whole service that failed before it had targets (a server down, a script
  // that reported nothing): news only until a backup of that service succeeds after it.
  const all = targetRows(db);
  const newestGood = new Map<string, number>();
  for (const r of all) if (r.goodId !== null) newestGood.set(r.service, Math.max(newestGood.get(r.service) ?? 0, r.goodId));
  const rows = all.filter((r) => r.target !== '*' || r.goodId !== null || (newestGood.get(r.service) ?? 0) < r.lastId);
  const goodIds = rows.flatMap((r) => (r.goodId === null ? [] : [r.goodId]));
  const copies = copiesOf(db, goodIds);
  const checks = new Map(latestChecks(db).map((c) => [`${c.kind}\0${c.service}\0${c.target}`, c]));
  const targets: TargetState[] = rows.map((r) => {
    const maxAgeSeconds = options.maxAge(r.service);
    const lastGood =
      r.goodId === null || r.runId === null || r.at === null
        ? null
        : {
            runId: r.runId,
            itemId: r.goodId,
            at: r.at,
            bytes: r.bytes,
            ageSeconds: Math.max(0, Math.round((now - Date.parse(r.at)) / 1000)),
            copies: [...(r.local ? ['local'] : []), ...(copies.get(r.goodId) ?? []).map((c) => c.storage)],
          };
    return {
      service: r.service,
      target: r.target,
      lastGood,
      maxAgeSeconds,
      stale: !lastGood || lastGood.ageSeconds > maxAgeSeconds,
      failuresSince: r.failures,
      suspectSince: r.suspects,
      lastVerify: check(checks.get(`verify\0${r.service}\0${r.target}`)),
      lastDrill: check(checks.get(`restore-test\0${r.service}\0${r.target}`)),
    };
  });
  targets.sort(
    (a, b) => worse(b) - worse(a) || (b.lastGood?.ageSeconds ?? 0) - (a.lastGood?.ageSeconds ?? 0) || a.service.localeCompare(b.service) || a.target.localeCompare(b.target),
  );
  const days = options.days ?? 90;
  return { targets, days: days ? outcomes(dailyCounts(db, since(now, days)), now, days) : [] };
}

/** How bad a target's news is, as a number to sort by: no good backup, failures, suspects, a failed proof, then age beyond max_age. */
function worse(t: TargetState): number {
  return (
    (t.lastGood ? 0 : 16) +
    (t.failuresSince ? 8 : 0) +
    (t.suspectSince ? 4 : 0) +
    (t.lastVerify?.status === 'failed' || t.lastDrill?.status === 'failed' ? 2 : 0) +
    (t.stale ? 1 : 0)
  );
}

export interface TargetDetail {
  state: TargetState;
  /** The newest backups, newest first, with their durations: the size and duration charts. */
  history: (HistoryRow & { seconds: number | null })[];
  days: DayOutcome[];
}

/** One target: its state, its newest `limit` backups and its daily outcomes; undefined when the catalog has none of it. */
export function targetDetail(db: CatalogDb, service: string, target: string, options: ServeOptions & { limit?: number }): TargetDetail | undefined {
  const state = overview(db, { ...options, days: 0 }).targets.find((t) => t.service === service && t.target === target);
  if (!state) return undefined;
  const now = options.now ?? Date.now();
  const days = options.days ?? 90;
  const history = targetHistory(db, service, target, options.limit ?? 90).map((h) => ({
    ...h,
    seconds: h.finishedAt ? Math.max(0, (Date.parse(h.finishedAt) - Date.parse(h.startedAt)) / 1000) : null,
  }));
  return { state, history, days: outcomes(dailyCounts(db, since(now, days), { service, target }), now, days) };
}

/** Local midnight `days - 1` days before `now`, as an ISO time (the strip ends today). */
function since(now: number, days: number): string {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() - Math.max(0, days - 1));
  return d.toISOString();
}

/** Each of the last `days` days (oldest first), with its counts and outcome; a day without backups is `none`. */
function outcomes(counts: DayCounts[], now: number, days: number): DayOutcome[] {
  const byDay = new Map(counts.map((c) => [c.day, c]));
  const start = new Date(since(now, days));
  return Array.from({ length: days }, (_, i) => {
    const d = new Date(start);
    d.setDate(start.getDate() + i);
    const day = localDay(d);
    const c = byDay.get(day) ?? { day, ok: 0, failed: 0, suspect: 0, verified: 0 };
    return { day, outcome: outcomeOf(c), ok: c.ok, failed: c.failed, suspect: c.suspect, verified: c.verified };
  });
}

/** A day's worst news from its counts (docs/serve.md, "The day strip"). */
export function outcomeOf(c: DayCounts): DayOutcome['outcome'] {
  if (c.failed) return c.ok ? 'partial' : 'failed';
  if (c.suspect) return 'suspect';
  if (!c.ok) return 'none';
  return c.verified >= c.ok ? 'verified' : 'ok';
}
