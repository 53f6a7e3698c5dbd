import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RunNotes } from './message.js';
import { pingUrl } from './healthchecks.js';
import { slackText } from './slack.js';
import { headersOf } from './webhook.js';

const at = '2026-01-02T03:04:05.000Z';

describe('a run told as a notice', () => {
  it('a backup: failed and suspect items with cause and fix, `batt show N`, exit code, secrets masked everywhere', () => {
    const notes = new RunNotes();
    notes.start({ type: 'run-started', kind: 'backup', runId: 7, at, services: ['mysql', 'file'] });
    notes.item({ type: 'item-finished', kind: 'backup', runId: 7, service: 'file', target: '/etc', status: 'ok', seconds: 1 });
    notes.item({ type: 'item-finished', kind: 'backup', runId: 7, service: 'file', target: '/srv', status: 'ok', seconds: 1, suspect: 'size fell from 10 MiB to 1 KiB' });
    notes.item({
      type: 'item-finished',
      kind: 'backup',
      runId: 7,
      service: 'mysql',
      target: 'shop',
      status: 'failed',
      seconds: 1,
      error: 'Access denied using password hunter2 (check mysql.password_file)',
    });
    const n = notes.notice({ type: 'run-finished', kind: 'backup', runId: 7, status: 'partial', at, ok: 2, failed: 1 }, 'db1', new Set(['hunter2']));
    assert.deepEqual([n.event, n.status, n.exitCode, n.runId, n.ok, n.failed, n.suspect], ['failure', 'partial', 1, 7, 2, 1, 1]);
    assert.deepEqual(
      n.items.map((i) => `${i.service} ${i.target} ${i.status}`),
      ['file /srv suspect', 'mysql shop failed'],
    );
    assert.equal(
      n.text,
      [
        'batt on db1: backup run 7 PARTIAL (1 of 3 items failed)',
        '- file /srv: SUSPECT: size fell from 10 MiB to 1 KiB; check the source, then `batt verify 7`, or `batt accept 7` to take it as the new normal',
        '- mysql shop: failed: Access denied using password ******** (check mysql.password_file)',
        'More: batt show 7',
      ].join('\n'),
    );
    assert.doesNotMatch(JSON.stringify(n), /hunter2/);
  });

  it('suspect, success and aborted runs: their `on` word and exit code', () => {
    const end = (status: 'ok' | 'aborted', suspect: boolean) => {
      const notes = new RunNotes();
      notes.start({ type: 'run-started', kind: 'backup', runId: 1, at, services: ['file'] });
      notes.item({ type: 'item-finished', kind: 'backup', runId: 1, service: 'file', target: '/a', status: 'ok', seconds: 0, ...(suspect ? { suspect: 'x' } : {}) });
      const n = notes.notice({ type: 'run-finished', kind: 'backup', runId: 1, status, at, ok: 1, failed: 0 }, 'h', []);
      return [n.event, n.exitCode, n.text.split('\n')[0]];
    };
    assert.deepEqual(end('ok', true), ['suspect', 3, 'batt on h: backup run 1 SUSPECT (1 of 1 items ok, 1 suspect)']);
    assert.deepEqual(end('ok', false), ['success', 0, 'batt on h: backup run 1 ok (1 of 1 items ok)']);
    assert.deepEqual(end('aborted', false), ['failure', 130, 'batt on h: backup run 1 ABORTED (1 of 1 items ok)']);
  });

  it('a run that failed as a whole says why', () => {
    const notes = new RunNotes();
    notes.start({ type: 'run-started', kind: 'backup', runId: 3, at, services: ['file'] });
    const n = notes.notice({ type: 'run-finished', kind: 'backup', runId: 3, status: 'failed', at, ok: 0, failed: 0, error: 'the disk is full' }, 'h', []);
    assert.equal(n.error, 'the disk is full');
    assert.match(n.text, /^batt on h: backup run 3 FAILED \(0 of 0 items ok\)\n- the disk is full\nMore: batt show 3$/);
  });

  it('a verify: each failed check with its run and why, `batt show` for each run', () => {
    const notes = new RunNotes();
    notes.start({ type: 'run-started', kind: 'verify', at, services: ['file'], restoreTest: true });
    const base = { type: 'item-finished', kind: 'verify', service: 'file', target: '/etc', file: '/b/etc.tar', seconds: 1 } as const;
    notes.item({ ...base, check: 'verify', runId: 4, status: 'failed', checks: [{ name: 'sha256', ok: false, detail: 'differs from the catalog' }] });
    notes.item({ ...base, check: 'restore-test', runId: 5, status: 'failed', checks: [], error: 'tar: unexpected EOF' });
    notes.item({ ...base, check: 'verify', runId: 6, status: 'pruned', checks: [] });
    const n = notes.notice({ type: 'run-finished', kind: 'verify', status: 'partial', at, ok: 1, failed: 2 }, 'h', []);
    assert.equal(n.runId, undefined);
    assert.deepEqual(n.show, ['batt show 4', 'batt show 5']);
    assert.equal(
      n.text,
      [
        'batt on h: verify PARTIAL (2 of 3 checks failed)',
        '- file /etc (run 4) verify: failed: sha256: differs from the catalog',
        '- file /etc (run 5) restore drill: failed: tar: unexpected EOF',
        'More: batt show 4, batt show 5',
      ].join('\n'),
    );
  });
});

describe('the channels’ pure parts', () => {
  it('healthchecks: url/start, url for exit 0, url/<code> otherwise; a trailing slash is dropped', () => {
    assert.equal(pingUrl('https://hc.example/ping/u/', 'start'), 'https://hc.example/ping/u/start');
    assert.equal(pingUrl('https://hc.example/ping/u', 0), 'https://hc.example/ping/u');
    assert.equal(pingUrl('https://hc.example/ping/u', 3), 'https://hc.example/ping/u/3');
  });

  it('healthchecks with failure: fail: url/fail for any failed exit, url still for 0 and url/start', () => {
    assert.equal(pingUrl('https://hc.example/ping/u', 1, 'fail'), 'https://hc.example/ping/u/fail');
    assert.equal(pingUrl('https://hc.example/ping/u', 75, 'fail'), 'https://hc.example/ping/u/fail');
    assert.equal(pingUrl('https://hc.example/ping/u', 0, 'fail'), 'https://hc.example/ping/u');
    assert.equal(pingUrl('https://hc.example/ping/u', 'start', 'fail'), 'https://hc.example/ping/u/start');
  });

  it('slack: &, < and > escaped as Slack reads them', () => {
    assert.equal(slackText('a < b && c > d'), 'a &lt; b &amp;&amp; c &gt; d');
  });

  it('webhook: "Name: value" lines as headers; a line without a name is a config error', () => {
    assert.deepEqual(headersOf(['Authorization: Bearer x:y', 'X-Team:ops']), { authorization: 'Bearer x:y', 'x-team': 'ops' });
    assert.throws(() => headersOf(['no header here']), /notify\.webhook\.headers: "no header here" is not a header line/);
  });
});
