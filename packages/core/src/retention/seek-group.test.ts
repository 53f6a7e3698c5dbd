process.env.TZ = 'Europe/Berlin'; // local buckets across two clock changes a year

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { closeCatalog, openCatalog, type CatalogDb } from '../catalog/db.js';
import type { BattConfig } from '../config/load.js';
import type { KeepRules } from './policy.js';
import { planPrune, type PlannedGroup, type PrunePlan } from './prune-plan.js';

const HOUR = 3_600_000;
const START = Date.parse('2025-01-01T00:00:00Z');
const config = { services: {} } as unknown as BattConfig;

let seed = 11;
const rand = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;

/**
 * A catalog of three targets over 14 months, a backup every 1-7 hours: about 5% failed or
 * aborted, 3% suspect, some whose last verify or drill failed (some failed, then passed), one
 * held by a running check of this process, one held by a dead one, and items of a running run
 * and of a prune under way (neither planned for).
 */
function fill(db: CatalogDb): void {
  const c = db.$client;
  const run = c.prepare("insert into runs (started_at, host, user, destination, services, pid, status) values (?, 'h', 'u', '/d', 's', 1, 'ok')");
  const item = c.prepare('insert into items (run_id, service, target, file, bytes, started_at, finished_at, status, suspect, prune_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const check = c.prepare("insert into checks (item_id, kind, started_at, status, pid) values (?, ?, '2026-01-01T00:00:00Z', ?, ?)");
  c.prepare("insert into prunes (started_at, status, rules, pid) values ('2026-01-01T00:00:00Z', 'running', 'x', 1)").run();
  c.transaction(() => {
    for (const [service, target] of [
      ['mysql', 'shop'],
      ['mysql', 'crm'],
      ['file', '/etc'],
    ]) {
      for (let t = START; t < START + 425 * 24 * HOUR; t += HOUR * (1 + Math.floor(rand() * 7))) {
        const at = new Date(t + Math.floor(rand() * 1000)).toISOString();
        const runId = Number(run.run(at).lastInsertRowid);
        const r = rand();
        const status = r < 0.04 ? 'failed' : r < 0.05 ? 'aborted' : r < 0.052 ? 'running' : 'ok';
        const suspect = status !== 'running' && rand() < 0.03 ? 'rows differ' : null;
        const pruneId = rand() < 0.01 ? 1 : null;
        const id = Number(item.run(runId, service, target, `/d/${runId}`, Math.floor(rand() * 1e6), at, at, status, suspect, pruneId).lastInsertRowid);
        const v = rand();
        if (v < 0.02) check.run(id, 'verify', 'failed', null);
        else if (v < 0.03) {
          check.run(id, 'restore-test', 'failed', null);
          check.run(id, 'restore-test', 'ok', null);
        } else if (v < 0.035) check.run(id, 'verify', 'running', process.pid);
        else if (v < 0.04) check.run(id, 'restore', 'running', 2 ** 22 + 1); // no such process: not a hold
      }
    }
  })();
}

/** Everything a plan says of a group, through each of its ways of saying it. */
function describe_(g: PlannedGroup) {
  const c = g.columns();
  return {
    counts: [g.service, g.target, g.kept, g.removed, g.keptBytes, g.removedBytes],
    keptFailed: g.keptFailed,
    listing: g.newest(10),
    folded: g.newest(10, false),
    none: g.newest(0, false).map((d) => [d.id, d.keep]),
    all: g.newest(Infinity).map((d) => [d.id, d.time, d.kind, d.keep, d.reasons]),
    columns: [c.ids, c.times, [...c.kinds], [...c.keep], [...c.reasons].sort(([a], [b]) => a - b)],
  };
}

/** A plan's decisions without the sizes and runs one way reads and the other does not. */
function bare(plan: PrunePlan) {
  return plan.groups.map((g) => {
    const d = describe_(g);
    const strip = (list: { id: number; time: number; kind: string; keep: boolean; reasons: string[] }[]) =>
      list.map(({ id, time, kind, keep, reasons }) => ({ id, time, kind, keep, reasons }));
    return { ...d, listing: strip(d.listing), folded: strip(d.folded) };
  });
}

describe('a prune plan that seeks (seek-group)', () => {
  let dir: string;
  let db: CatalogDb;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'batt-seek-group-'));
    db = await openCatalog(join(dir, 'catalog.db'));
    fill(db);
  });
  after(() => {
    closeCatalog(db);
    rmSync(dir, { recursive: true, force: true });
  });

  const rules: KeepRules[] = [
    { daily: 7, weekly: 4, monthly: 12 },
    { last: 3, hourly: 30, yearly: 2 },
    { withinMs: 20 * 24 * HOUR, withinLabel: '20d', weekly: 10 },
    { monthly: 2 },
  ];
  for (const flags of rules) {
    it(`decides, counts, lists and reads every backup as the plan that reads them all (${JSON.stringify(flags)})`, () => {
      const now = new Date(START + 426 * 24 * HOUR);
      const request = { db, config, services: [], targets: [], flags, now };
      const sought = planPrune(request);
      const walked = planPrune({ ...request, seek: false });
      assert.equal(sought.groups.length, 3);
      assert.deepEqual(bare(sought), bare(walked));
      // Both ways mean something here: something is kept for each reason, something removed.
      const all = sought.groups.flatMap((g) => g.newest(Infinity));
      for (const reason of [/^failed: not counted/, /^suspect: not counted/, /^in use by a verify/, /not kept by any rule/]) {
        assert.ok(
          all.some((d) => d.reasons.some((r) => reason.test(r))),
          `no backup with a reason like ${reason}`,
        );
      }
      assert.ok(sought.groups.some((g) => g.keptFailed.count > 0));
      assert.ok(sought.groups.every((g) => g.removed > 0));
    });
  }

  it('plans in the item_totals the triggers keep: they match the items after inserts, updates and deletes', () => {
    const c = db.$client;
    const totals = (): unknown[] => c.prepare('select service, target, items, bytes from item_totals where items > 0 order by 1, 2').raw().all();
    const counted = (): unknown[] =>
      c.prepare("select service, target, count(*), coalesce(sum(bytes), 0) from items where prune_id is null and status <> 'running' group by 1, 2 order by 1, 2").raw().all();
    assert.deepEqual(totals(), counted());
    c.exec("update items set status = 'ok', bytes = 5 where status = 'running'");
    c.exec('update items set prune_id = 1 where id % 17 = 0');
    c.exec("update items set target = 'moved', bytes = bytes + 1 where id % 29 = 0");
    c.exec('delete from items where id % 13 = 0');
    c.exec('update items set prune_id = null where id % 34 = 0');
    assert.deepEqual(totals(), counted());
    assert.ok((counted() as [string, string, number][]).some(([, target]) => target === 'moved'));
  });

  it('knows every target that passed a restore drill, from the checks as they are written', () => {
    const c = db.$client;
    const drilled = (): unknown[] => c.prepare('select service, target from drilled_targets order by 1, 2').raw().all();
    const [id] = c.prepare("select id from items where service = 'file' and status = 'ok' limit 1").pluck().all() as number[];
    c.prepare("delete from checks where kind = 'restore-test'").run();
    c.exec('delete from drilled_targets');
    c.prepare("insert into checks (item_id, kind, started_at, status) values (?, 'restore-test', '2026-01-01T00:00:00Z', 'running')").run(id);
    assert.deepEqual(drilled(), [], 'a drill still running proves nothing');
    c.exec("update checks set status = 'ok' where kind = 'restore-test'");
    assert.deepEqual(drilled(), [['file', '/etc']]);
    const [other] = c.prepare("select id from items where service = 'mysql' and target = 'crm' limit 1").pluck().all() as number[];
    c.prepare("insert into checks (item_id, kind, started_at, status) values (?, 'restore-test', '2026-01-01T00:00:00Z', 'ok')").run(other);
    assert.deepEqual(drilled(), [
      ['file', '/etc'],
      ['mysql', 'crm'],
    ]);
  });
});
