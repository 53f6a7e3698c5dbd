/**
 * What `batt serve` answers (docs/serve.md), from the catalog alone: the overview (every service
 * and target with its last good backup, the worst news first), a page of runs (keyset paging, not
 * OFFSET), and one run with its items, checks and copies. The run's fields are those of
 * `batt show --json`, which prints `runDetail` too. Nothing here reads the configuration, so no
 * secret of it can reach a response.
 */
import { copiesOf } from '../catalog/copies.js';
import type { CatalogDb } from '../catalog/db.js';
import { getRun, listRuns, type RunSummary } from '../catalog/queries.js';
import type { RunStatus } from '../catalog/statuses.js';
import { checksOf } from '../restore/select.js';

const parse = (json: string | null): unknown => (json ? JSON.parse(json) : null);

/** One run with its items, each with its facts, checks and copies: `batt show --json` and `/api/runs/<id>`. */
export function runDetail(db: CatalogDb, ref: string): Record<string, unknown> | undefined {
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
export function runsPage(db: CatalogDb, filter: { service?: string; status?: RunStatus; limit: number; before?: number }): RunsPage {
  const runs = listRuns(db, { service: filter.service, status: filter.status, last: filter.limit + 1, before: filter.before });
  const more = runs.length > filter.limit;
  const shown = runs.slice(0, filter.limit);
  return { runs: shown, next: more ? shown[shown.length - 1].id : null };
}

export interface TargetState {
  service: string;
  target: string;
  /** The newest good backup: ok and not suspect. */
  lastGood: { runId: number; itemId: number; at: string; bytes: number | null; ageSeconds: number; copies: string[] } | null;
  /** Backups of this target that failed since the last good one. */
  failuresSince: number;
  /** Suspect backups since the last good one. */
  suspectSince: number;
  lastVerify: { status: string; at: string } | null;
  lastDrill: { status: string; at: string } | null;
}

/** Every service and target the catalog knows, the worst news first: failures, then age. */
export function overview(db: CatalogDb, now = Date.now()): { targets: TargetState[] } {
  const rows = db.$client
    .prepare(
      `with good as (
         select service, target, max(id) as id from items where status = 'ok' and suspect is null group by service, target
       ), known as (select distinct service, target from items where file is not null or status != 'ok')
       select k.service, k.target, g.id as goodId, i.run_id as runId, i.started_at as at, i.bytes, i.local,
         (select count(*) from items f where f.service = k.service and f.target = k.target and f.status in ('failed', 'aborted') and f.id > coalesce(g.id, 0)) as failures,
         (select count(*) from items s where s.service = k.service and s.target = k.target and s.suspect is not null and s.id > coalesce(g.id, 0)) as suspects
       from known k left join good g on g.service = k.service and g.target = k.target left join items i on i.id = g.id`,
    )
    .all() as { service: string; target: string; goodId: number | null; runId: number; at: string; bytes: number | null; local: number; failures: number; suspects: number }[];
  const goodIds = rows.flatMap((r) => (r.goodId === null ? [] : [r.goodId]));
  const copies = copiesOf(db, goodIds);
  const checks = checksOf(db, goodIds);
  const last = (id: number, kind: string): { status: string; at: string } | null => {
    const found = checks.filter((c) => c.itemId === id && c.kind === kind).sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0];
    return found ? { status: found.status, at: found.startedAt } : null;
  };
  const targets: TargetState[] = rows.map((r) => ({
    service: r.service,
    target: r.target,
    lastGood:
      r.goodId === null
        ? null
        : {
            runId: r.runId,
            itemId: r.goodId,
            at: r.at,
            bytes: r.bytes,
            ageSeconds: Math.max(0, Math.round((now - Date.parse(r.at)) / 1000)),
            copies: [...(r.local ? ['local'] : []), ...(copies.get(r.goodId) ?? []).map((c) => c.storage)],
          },
    failuresSince: r.failures,
    suspectSince: r.suspects,
    lastVerify: r.goodId === null ? null : last(r.goodId, 'verify'),
    lastDrill: r.goodId === null ? null : last(r.goodId, 'restore-test'),
  }));
  const badness = (t: TargetState): number => (t.lastGood ? 0 : 2e12) + t.failuresSince * 1e10 + t.suspectSince * 1e9 + (t.lastGood?.ageSeconds ?? 0);
  targets.sort((a, b) => badness(b) - badness(a) || a.service.localeCompare(b.service) || a.target.localeCompare(b.target));
  return { targets };
}
