import assert from 'node:assert/strict';
import { it } from 'node:test';
import { progressOf, RunEvents, type RunEvent } from './events.js';

it('bytes so far: an item-progress event at most once per interval, the first only after one', () => {
  const events = new RunEvents();
  const heard: RunEvent[] = [];
  events.on((e) => heard.push(e));
  let now = 10_000;
  const onBytes = progressOf(events, { runId: 7, service: 'mysql', target: 'shop' }, 1000, () => now);
  onBytes(100); // at 0 ms: too soon
  now += 999;
  onBytes(200);
  now += 1;
  onBytes(300); // 1.0 s
  now += 500;
  onBytes(400); // too soon after the last
  now += 600;
  onBytes(500); // 2.1 s
  assert.deepEqual(heard, [
    { type: 'item-progress', kind: 'backup', runId: 7, service: 'mysql', target: 'shop', bytes: 300, seconds: 1 },
    { type: 'item-progress', kind: 'backup', runId: 7, service: 'mysql', target: 'shop', bytes: 500, seconds: 2.1 },
  ]);
});
