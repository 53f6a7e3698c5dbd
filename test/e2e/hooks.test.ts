/**
 * Hooks: before, after and on_failure for the run and for one service, argv lists without a shell,
 * with the run's facts in their environment; a failing `before` skips what it guards; a hook that
 * hangs is stopped at its timeout.
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { json, sandboxFor } from '../lib/batt.js';

describe('hooks', () => {
  const box = sandboxFor('each');
  const conf = (): string => join(box.home, 'conf', 'batt.config.yaml');
  /** A hook that records its kind, service, status, run id and arguments, one line per call. */
  const recorder = (): { path: string; calls: () => string[] } => {
    const log = join(box.dir, 'hooks.log');
    const path = join(box.dir, 'rec');
    writeFileSync(path, `#!/bin/sh\necho "$BATT_HOOK|\${BATT_SERVICE:-}|\${BATT_STATUS:-}|$BATT_RUN_ID|\${BATT_TARGETS:-}|$*" >> '${log}'\n`, { mode: 0o755 });
    return { path, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []) };
  };
  const artifacts = (): string[] =>
    existsSync(box.out)
      ? readdirSync(box.out, { recursive: true })
          .map(String)
          .filter((f) => f.endsWith('.tar.zst'))
      : [];

  it('run and service hooks run in order, with the run facts in their environment and their arguments as given (no shell)', async () => {
    const data = box.folder('data', { a: 'alpha' });
    const rec = recorder();
    appendFileSync(
      conf(),
      [
        'hooks:',
        `  before: [[${rec.path}, run-before]]`,
        `  after: [[${rec.path}, run-after]]`,
        'file:',
        '  hooks:',
        `    before: [[${rec.path}, file-before, "$HOME; touch ${join(box.dir, 'injected')}"]]`,
        `    after: [${rec.path}, file-after]`,
        `    on_failure: [[${rec.path}, file-failed]]`,
        '',
      ].join('\n'),
    );
    const r = await box.batt(['--file', data, '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    const id = json(r).id;
    assert.deepEqual(rec.calls(), [
      `before|||${id}||run-before`,
      `before|file||${id}|${data}|file-before $HOME; touch ${join(box.dir, 'injected')}`,
      `after|file|ok|${id}|${data}|file-after`,
      `after||ok|${id}||run-after`,
    ]);
    assert.equal(existsSync(join(box.dir, 'injected')), false, 'no shell ran the argument');
  });

  it("a failing before skips the service: its items fail with the hook's reason, nothing is dumped, after and on_failure still run", async () => {
    const data = box.folder('data', { a: 'alpha' });
    const rec = recorder();
    appendFileSync(
      conf(),
      ['file:', '  hooks:', '    before: [["false"]]', `    after: [[${rec.path}, file-after]]`, `    on_failure: [[${rec.path}, file-failed]]`, ''].join('\n'),
    );
    const r = await box.batt(['--file', data, '--json']);
    assert.equal(r.exitCode, 1, r.stderr);
    const report = json(r);
    assert.equal(report.items[0].status, 'failed');
    assert.match(report.items[0].error, /the before hook `false` of file failed: false exited with code 1/);
    assert.deepEqual(artifacts(), []);
    assert.deepEqual(
      rec.calls().map((c) => c.split('|').slice(0, 3).join('|')),
      ['on_failure|file|failed', 'after|file|failed'],
    );
  });

  it('a hook that hangs is stopped at hooks.timeout and counts as failed', async () => {
    const data = box.folder('data', { a: 'alpha' });
    appendFileSync(conf(), ['hooks:', '  timeout: 1s', '  before: [[sleep, "30"]]', ''].join('\n'));
    const started = Date.now();
    const r = await box.batt(['--file', data, '--json']);
    assert.ok(Date.now() - started < 20_000, 'not the 30 s the hook wanted');
    assert.equal(r.exitCode, 1, r.stderr);
    assert.match(json(r).items[0].error, /the before hook `sleep 30` failed: did not finish within 1s \(hooks.timeout\)/);
    assert.deepEqual(artifacts(), []);
  });

  it('a hook that is not a command is a configuration error before anything runs', async () => {
    const data = box.folder('data', { a: 'alpha' });
    appendFileSync(conf(), ['hooks:', '  before: "umount /mnt"', ''].join('\n'));
    const r = await box.batt(['--file', data]);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /"hooks.before" must be a command as a list of strings/);
  });
});
