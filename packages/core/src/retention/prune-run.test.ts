import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { closeCatalog, openCatalog } from '../catalog/db.js';
import { addItem, createRun, finishRun } from '../catalog/queries.js';
import type { BattConfig } from '../config/load.js';
import { RunEvents, type RunEvent } from '../events/events.js';
import type { Logger } from '../log/logger.js';
import { planPrune } from './prune-plan.js';
import { runPrune } from './prune-run.js';

const quiet: Logger = { info() {}, warn() {}, error() {}, scoped: () => quiet };

describe('a prune run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'batt-prune-run-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("emits its events on the caller's emitter: started with its rules, one item per backup it removes, finished with what went", async () => {
    const db = await openCatalog(join(dir, 'catalog.db'));
    try {
      const root = join(dir, 'out');
      const files: string[] = [];
      for (let i = 0; i < 3; i++) {
        const folder = join(root, `run${i}`);
        mkdirSync(folder, { recursive: true });
        const file = join(folder, 'etc.tar');
        writeFileSync(file, 'x'.repeat(10 * (i + 1)));
        const startedAt = new Date(Date.UTC(2024, 0, 1 + i)).toISOString();
        const runId = createRun(db, { startedAt, host: 'h', user: 'u', destination: root, services: 'file', pid: 1 });
        addItem(db, { runId, service: 'file', target: '/etc', file, bytes: 10 * (i + 1), startedAt, finishedAt: startedAt, status: 'ok' });
        finishRun(db, runId, 'ok');
        files.push(file);
      }
      const request = { db, config: { services: {} } as unknown as BattConfig, services: [], targets: [], flags: { last: 1 }, now: new Date(Date.UTC(2024, 0, 5)) };
      const plan = planPrune(request);
      const events = new RunEvents(quiet);
      const heard: RunEvent[] = [];
      events.on((e) => heard.push(e));
      const result = await runPrune(request, plan, [root], { log: quiet, events });
      assert.equal(result.removed, 2);
      assert.deepEqual(
        heard.map((e) => `${e.type}${e.type === 'item-finished' && 'kind' in e && e.kind === 'prune' ? ` ${e.file} ${e.status}` : ''}`),
        ['run-started', 'item-started', 'item-started', `item-finished ${files[0]} removed`, `item-finished ${files[1]} removed`, 'run-finished'],
      );
      const [started, finished] = [heard[0], heard.at(-1)!];
      assert.ok(started.type === 'run-started' && started.kind === 'prune');
      assert.deepEqual(started.rules, { file: '--keep-last 1' });
      assert.ok(finished.type === 'run-finished' && finished.kind === 'prune');
      assert.deepEqual(
        { ...finished, at: '' },
        { type: 'run-finished', kind: 'prune', status: 'ok', at: '', pruneId: result.pruneId, removed: 2, bytes: 30, kept: 1, heldMeanwhile: 0 },
      );
      assert.deepEqual(files.map(existsSync), [false, false, true]);
    } finally {
      closeCatalog(db);
    }
  });
});
