import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { overview } from '../serve/api.js';
import { dailyCounts, targetRows } from './dashboard.js';
import { closeCatalog, openCatalog } from './db.js';
import { addItem, createRun, finishRun } from './queries.js';

describe('the dashboard queries', () => {
  const dir = mkdtempSync(join(tmpdir(), 'batt-dashboard-'));
  const zone = process.env.TZ;
  after(() => {
    process.env.TZ = zone;
    rmSync(dir, { recursive: true, force: true });
  });

  it('puts a backup on its local day in a half-hour time zone, and counts a run that began the day before', async () => {
    const db = await openCatalog(join(dir, 'catalog.db'));
    try {
      // 18:45 UTC is 00:15 the next day in India (+5:30); the run started at 18:00 UTC, 23:30 there.
      const run = createRun(db, { startedAt: '2026-03-10T18:00:00.000Z', host: 'h', user: 'u', destination: '/b', services: 'file', pid: 1 });
      addItem(db, { runId: run, service: 'file', target: '/a', file: '/b/a.tar', bytes: 1, startedAt: '2026-03-10T18:10:00.000Z', status: 'ok' });
      addItem(db, { runId: run, service: 'file', target: '/b', file: '/b/b.tar', bytes: 1, startedAt: '2026-03-10T18:45:00.000Z', status: 'failed' });
      finishRun(db, run, 'partial');
      process.env.TZ = 'Asia/Kolkata';
      const since = new Date(2026, 2, 11).toISOString(); // local midnight of 11 March: 18:30 UTC on the 10th
      assert.deepEqual(dailyCounts(db, since), [{ day: '2026-03-11', ok: 0, failed: 1, suspect: 0, verified: 0 }]);
      assert.deepEqual(dailyCounts(db, since, { service: 'file', target: '/b' }), [{ day: '2026-03-11', ok: 0, failed: 1, suspect: 0, verified: 0 }]);
      process.env.TZ = 'UTC';
      assert.deepEqual(
        targetRows(db).map((r) => [r.target, r.goodId !== null, r.failures]),
        [
          ['/a', true, 0],
          ['/b', false, 1],
        ],
      );
    } finally {
      closeCatalog(db);
    }
  });

  it("shows a whole service's failure (target *) until a backup of that service succeeds after it", async () => {
    const db = await openCatalog(join(dir, 'star.db'));
    try {
      const item = (runId: number, target: string, status: 'ok' | 'failed', at: string): number =>
        addItem(db, { runId, service: 'mysql', target, file: status === 'ok' ? `/b/${target}.sql` : null, bytes: 1, startedAt: at, status });
      const run = (at: string): number => createRun(db, { startedAt: at, host: 'h', user: 'u', destination: '/b', services: 'mysql', pid: 1 });
      const r1 = run('2026-03-01T03:00:00.000Z');
      item(r1, 'shop', 'ok', '2026-03-01T03:00:01.000Z');
      const r2 = run('2026-03-02T03:00:00.000Z');
      item(r2, '*', 'failed', '2026-03-02T03:00:01.000Z'); // the server was down
      const shown = (): string[] => overview(db, { maxAge: () => 1e9, days: 0, now: Date.parse('2026-03-03T00:00:00Z') }).targets.map((t) => `${t.target}:${t.failuresSince}`);
      assert.deepEqual(shown(), ['*:1', 'shop:0'], 'the outage is news, first');
      const r3 = run('2026-03-03T03:00:00.000Z');
      item(r3, 'shop', 'ok', '2026-03-03T03:00:01.000Z');
      assert.deepEqual(shown(), ['shop:0'], 'a good backup of the service after it ends the news');
    } finally {
      closeCatalog(db);
    }
  });
});
