import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runStatusOf, RunEvents, type RunEvent } from './events.js';
import { logEvents } from './log-subscriber.js';
import type { Logger } from '../log/logger.js';

/** A logger that keeps its lines. */
function memoryLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const make = (scope?: string): Logger =>
    ({
      info: (m: string) => lines.push(`info ${scope ? `[${scope}] ` : ''}${m}`),
      warn: (m: string) => lines.push(`warn ${scope ? `[${scope}] ` : ''}${m}`),
      error: (m: string) => lines.push(`error ${scope ? `[${scope}] ` : ''}${m}`),
      scoped: (s: string) => make(s),
    }) as unknown as Logger;
  return { log: make(), lines };
}

/** The lines the log subscriber writes for `all`, given to a log scoped to `scope` when there is one. */
function logged(all: readonly RunEvent[], scope?: string): string[] {
  const { log, lines } = memoryLog();
  const events = new RunEvents(log);
  logEvents(events, scope ? log.scoped(scope) : log);
  for (const e of all) events.emit(e);
  return lines;
}

describe('run events', () => {
  it('reach every listener in order; one that throws is logged and the others still hear', () => {
    const { log, lines } = memoryLog();
    const events = new RunEvents(log);
    const heard: string[] = [];
    events.on((e) => heard.push(`a ${e.type}`));
    events.on(() => {
      throw new Error('broken notifier');
    });
    const off = events.on((e) => heard.push(`c ${e.type}`));
    events.emit({ type: 'run-started', kind: 'backup', runId: 1, at: 'now', services: ['file'] });
    off();
    events.emit({ type: 'run-finished', kind: 'backup', runId: 1, status: 'ok', at: 'later', ok: 1, failed: 0 });
    assert.deepEqual(heard, ['a run-started', 'c run-started', 'a run-finished']);
    assert.deepEqual(lines, [
      "warn a listener of the run's events failed on run-started: broken notifier",
      "warn a listener of the run's events failed on run-finished: broken notifier",
    ]);
  });

  it('the log subscriber writes the lines batt has always written', () => {
    const item = { kind: 'backup' as const, runId: 2, service: 'mysql', target: 'shop' };
    const all: RunEvent[] = [
      { type: 'item-started', ...item, at: 't' },
      { type: 'item-warning', ...item, message: 'Warning: something' },
      { type: 'item-finished', ...item, status: 'ok', file: '/b/shop.sql.zst', bytes: 2048, seconds: 1.25 },
      { type: 'item-finished', ...item, status: 'failed', error: 'cannot reach the server', seconds: 0.1 },
      { type: 'item-started', kind: 'backup', runId: 2, service: 'notes', target: '*', script: '/h/scripts-enabled/backup-notes', at: 't' },
      { type: 'item-finished', kind: 'backup', runId: 2, service: 'notes', target: 'a.txt', status: 'ok', file: '/b/notes/a.txt', bytes: 4, seconds: 0.2, script: true },
      { type: 'item-finished', kind: 'backup', runId: 2, service: 'notes', target: '*', status: 'failed', error: 'backup-notes exited with code 3', seconds: 0.2, script: true },
    ];
    assert.deepEqual(logged(all), [
      'info [mysql] shop: started',
      'warn [mysql] shop: Warning: something',
      'info [mysql] shop: ok → /b/shop.sql.zst (2.0 KiB, 1.3s)',
      'error [mysql] shop: cannot reach the server',
      'info [notes] running /h/scripts-enabled/backup-notes',
      'info [notes] a.txt: ok → /b/notes/a.txt (4 B)',
      'error [notes] backup-notes exited with code 3',
    ]);
  });

  it('say which kind of run they belong to; a run status follows from its items', () => {
    const kinds = (
      [
        { type: 'item-started', kind: 'backup', runId: 1, service: 'file', target: '/etc', at: 't' },
        { type: 'run-started', kind: 'restore', at: 't', services: ['file'] },
        { type: 'item-finished', kind: 'verify', check: 'verify', runId: 1, service: 'file', target: '/etc', file: '/b/etc.tar', status: 'ok', checks: [], seconds: 0 },
        { type: 'run-finished', kind: 'prune', status: 'ok', at: 't', removed: 0, bytes: 0, kept: 1, heldMeanwhile: 0 },
      ] satisfies RunEvent[]
    ).map((e) => e.kind);
    assert.deepEqual(kinds, ['backup', 'restore', 'verify', 'prune']);
    assert.deepEqual(
      [runStatusOf(2, 0, false), runStatusOf(1, 1, false), runStatusOf(0, 2, false), runStatusOf(2, 0, true), runStatusOf(0, 0, false)],
      ['ok', 'partial', 'failed', 'aborted', 'ok'],
    );
  });

  it('a restore run logs each restore as it always did: started, restored or failed; a restore script only its failure', () => {
    const item = { kind: 'restore', runId: 3, service: 'mysql', target: 'shop', into: 'database shop_restored' } as const;
    const notes = { kind: 'restore', runId: 4, service: 'notes', target: '*', into: 'restore-notes into /r', script: '/h/scripts-available/restore-notes' } as const;
    const check = { name: 'tables', ok: true, detail: '3 tables' };
    const all: RunEvent[] = [
      { type: 'run-started', kind: 'restore', at: 't', services: ['mysql', 'notes'] },
      { type: 'item-started', ...item, action: 'create', at: 't' },
      { type: 'item-finished', ...item, status: 'ok', checks: [check], seconds: 1 },
      { type: 'item-started', ...item, into: 'database shop', action: 'swap', at: 't' },
      { type: 'item-finished', ...item, into: 'database shop', status: 'failed', checks: [], error: 'mysql exited with code 1', seconds: 1 },
      { type: 'item-started', ...notes, action: 'script', at: 't' },
      { type: 'item-finished', ...notes, status: 'ok', checks: [{ name: 'script', ok: true, detail: 'restore-notes exited 0' }], seconds: 1 },
      { type: 'item-started', ...notes, action: 'script', at: 't' },
      { type: 'item-finished', ...notes, status: 'failed', checks: [], error: 'restore-notes exited with code 4: nope', seconds: 1 },
      { type: 'run-finished', kind: 'restore', status: 'partial', at: 't', ok: 2, failed: 2 },
    ];
    assert.deepEqual(logged(all), [
      'info [mysql] shop: restoring into database shop_restored',
      'info [mysql] shop: restored into database shop_restored',
      'info [mysql] shop: restoring into database shop (via a checked temporary copy)',
      'error [mysql] shop: mysql exited with code 1',
      'error [notes] restore-notes exited with code 4: nope',
    ]);
  });

  it('a verify run logs each verdict, each drill as it starts, and a backup pruned meanwhile; a service without a drill says nothing', () => {
    const item = { kind: 'verify', runId: 7, service: 'redis', target: 'localhost:6379', file: '/b/dump.rdb.zst' } as const;
    const good = { name: 'sha256', ok: true, detail: 'match' };
    const all: RunEvent[] = [
      { type: 'run-started', kind: 'verify', at: 't', services: ['redis'], restoreTest: true },
      { type: 'item-started', ...item, check: 'verify', at: 't' },
      { type: 'item-finished', ...item, check: 'verify', status: 'ok', checks: [good], seconds: 1 },
      { type: 'item-started', ...item, check: 'restore-test', at: 't' },
      {
        type: 'item-finished',
        ...item,
        check: 'restore-test',
        status: 'failed',
        checks: [good, { name: 'keys', ok: false, detail: '2 of 3' }, { name: 'ttl', ok: false, detail: 'lost' }],
        seconds: 1,
      },
      { type: 'item-finished', ...item, check: 'verify', status: 'failed', checks: [good], error: 'the artifact is missing', seconds: 1 },
      { type: 'item-finished', ...item, runId: 8, check: 'verify', status: 'pruned', checks: [], seconds: 0 },
      { type: 'item-finished', ...item, check: 'restore-test', status: 'skipped', checks: [{ name: 'restore-test', ok: true, detail: 'skipped: no drill' }], seconds: 0 },
      { type: 'run-finished', kind: 'verify', status: 'partial', at: 't', ok: 2, failed: 2 },
    ];
    assert.deepEqual(logged(all), [
      'info [redis] localhost:6379: verify ok',
      'info [redis] localhost:6379: restore drill',
      'error [redis] localhost:6379: restore drill FAILED: keys: 2 of 3; ttl: lost',
      'error [redis] localhost:6379: verify FAILED: the artifact is missing',
      "warn [redis] localhost:6379: run 8's backup was pruned meanwhile: skipped",
    ]);
  });

  it('a prune logs its warnings and rules, each backup it removed, and what it removed and kept', () => {
    const a = { kind: 'prune', itemId: 11, runId: 2, service: 'file', target: '/etc', file: '/b/etc-run2.tar.zst', bytes: 3072 } as const;
    const b = { kind: 'prune', itemId: 12, runId: 3, service: 'file', target: '/etc', file: '/b/etc-run3.tar.zst', bytes: 1024 } as const;
    const gone = { kind: 'prune', itemId: 13, service: 'file', target: '/srv', status: 'removed' } as const;
    const all: RunEvent[] = [
      {
        type: 'run-started',
        kind: 'prune',
        at: 't',
        services: ['file', 'mysql'],
        rules: { file: '--keep-last 2', mysql: '--keep-daily 7' },
        warnings: ['file /etc: this removes every drilled backup'],
      },
      { type: 'item-started', ...a, at: 't' },
      { type: 'item-started', ...b, at: 't' },
      { type: 'item-finished', ...a, status: 'removed' },
      { type: 'item-finished', ...b, status: 'kept' },
      { type: 'item-finished', ...gone },
      { type: 'run-finished', kind: 'prune', status: 'ok', at: 't', pruneId: 1, removed: 2, bytes: 3072, kept: 4, heldMeanwhile: 1 },
      { type: 'run-finished', kind: 'prune', status: 'failed', at: 't', removed: 0, bytes: 0, kept: 4, heldMeanwhile: 0, error: 'cannot remove' },
    ];
    assert.deepEqual(logged(all, 'prune'), [
      'warn [prune] file /etc: this removes every drilled backup',
      'info [prune] rules file: --keep-last 2; mysql: --keep-daily 7',
      'info [prune] removed file /etc of run 2: /b/etc-run2.tar.zst (3.0 KiB)',
      'info [prune] removed file /srv of run undefined: (no file) (0 B)',
      'info [prune] removed 2 backups (3.0 KiB), kept 4',
    ]);
  });
});
