import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logEvents, RunEvents, type RunEvent } from './events.js';
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
    const { log, lines } = memoryLog();
    const events = new RunEvents(log);
    logEvents(events, log);
    const item = { runId: 2, service: 'mysql', target: 'shop' };
    const all: RunEvent[] = [
      { type: 'item-started', ...item, at: 't' },
      { type: 'item-warning', ...item, message: 'Warning: something' },
      { type: 'item-finished', ...item, status: 'ok', file: '/b/shop.sql.zst', bytes: 2048, seconds: 1.25 },
      { type: 'item-finished', ...item, status: 'failed', error: 'cannot reach the server', seconds: 0.1 },
      { type: 'item-started', runId: 2, service: 'notes', target: '*', script: '/h/scripts-enabled/backup-notes', at: 't' },
      { type: 'item-finished', runId: 2, service: 'notes', target: 'a.txt', status: 'ok', file: '/b/notes/a.txt', bytes: 4, seconds: 0.2, script: true },
      { type: 'item-finished', runId: 2, service: 'notes', target: '*', status: 'failed', error: 'backup-notes exited with code 3', seconds: 0.2, script: true },
    ];
    for (const e of all) events.emit(e);
    assert.deepEqual(lines, [
      'info [mysql] shop: started',
      'warn [mysql] shop: Warning: something',
      'info [mysql] shop: ok → /b/shop.sql.zst (2.0 KiB, 1.3s)',
      'error [mysql] shop: cannot reach the server',
      'info [notes] running /h/scripts-enabled/backup-notes',
      'info [notes] a.txt: ok → /b/notes/a.txt (4 B)',
      'error [notes] backup-notes exited with code 3',
    ]);
  });
});
