/**
 * The log: one JSON object per line in the home's logs/, and with --syslog (or log.syslog) each
 * run's summary sent to syslog through logger(1) (a stand-in here that records what it is given:
 * no syslog daemon runs on the test machines).
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { json, logLines, realTool, sandboxFor, standIns } from '../lib/batt.js';

describe('logs', () => {
  const box = sandboxFor('each');
  const entries = (): Record<string, unknown>[] =>
    readdirSync(join(box.home, 'logs'))
      .flatMap((f) => readFileSync(join(box.home, 'logs', f), 'utf8').split('\n'))
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  it('the log file holds one JSON object per line: time, level, scope, pid and message', async () => {
    const data = box.folder('data', { a: 'alpha' });
    const r = await box.batt(['--file', data, '--file', join(box.dir, 'missing'), '--json']);
    assert.equal(r.exitCode, 1);
    const all = entries();
    assert.ok(all.length >= 3, JSON.stringify(all));
    for (const e of all) {
      assert.match(String(e.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(['info', 'warning', 'error'].includes(String(e.level)), String(e.level));
      assert.equal(typeof e.message, 'string');
      assert.equal(typeof e.pid, 'number');
    }
    assert.ok(
      all.some((e) => e.scope === 'file' && e.level === 'info' && String(e.message).startsWith(`${data}: ok → `)),
      'the ok item, scoped to its service',
    );
    assert.ok(
      all.some((e) => e.scope === 'file' && e.level === 'error' && String(e.message).includes('missing')),
      'the failed item, as an error',
    );
    assert.ok(logLines(box).some((l) => l.startsWith('error [file] ')));
  });

  it("a failed tool's whole stderr is kept with its item, not only the lines its error quotes", async () => {
    const data = box.folder('data', { a: 'alpha' });
    const lines = Array.from({ length: 12 }, (_, i) => `tar: complaint ${i + 1}`);
    const path = standIns(join(box.dir, 'bin'), {
      tar: `#!/bin/sh\ncase " $* " in *" --version "*) exec '${realTool('tar')}' "$@";; esac\nprintf '%s\\n' ${lines.map((l) => `'${l}'`).join(' ')} >&2\nexit 2\n`,
    });
    const r = await box.batt(['--file', data, '--json'], { env: { PATH: path } });
    assert.equal(r.exitCode, 1);
    const item = json(await box.batt(['show', String(json(r).id), '--json'])).items[0];
    assert.equal(item.status, 'failed');
    assert.doesNotMatch(item.error, /complaint 1\b/, 'the error quotes only the last lines');
    assert.deepEqual(item.log.split('\n'), lines);
    assert.match((await box.batt(['show', String(json(r).id)])).stdout, /log {5}\| tar: complaint 1\n/);
  });

  it('--syslog sends each run summary to logger(1), at user.info when ok and user.err when not; log.syslog does the same', async () => {
    const data = box.folder('data', { a: 'alpha' });
    const calls = join(box.dir, 'logger.calls');
    const path = standIns(join(box.dir, 'bin'), { logger: `#!/bin/sh\nprintf '%s|' "$@" >> '${calls}'\necho >> '${calls}'\n` });
    const ok = json(await box.batt(['--file', data, '--syslog', '--json'], { env: { PATH: path } }));
    const failed = await box.batt(['--file', join(box.dir, 'missing'), '--json'], { env: { PATH: path } });
    assert.equal(existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n').length : 0, 1, 'only the run with --syslog');
    appendFileSync(join(box.home, 'conf', 'batt.config.yaml'), 'log:\n  syslog: true\n');
    const bad = json(await box.batt(['--file', join(box.dir, 'missing'), '--json'], { env: { PATH: path } }));
    assert.equal(failed.exitCode, 1);
    const lines = readFileSync(calls, 'utf8').trim().split('\n');
    assert.equal(lines[0], `-t|batt|-p|user.info|--|run ${ok.id} ok: 1 ok, 0 failed (batt show ${ok.id})|`);
    assert.match(lines[1], new RegExp(`^-t\\|batt\\|-p\\|user.err\\|--\\|run ${bad.id} failed: 0 ok, 1 failed; file ${box.dir}/missing: .*\\(batt show ${bad.id}\\)\\|$`));
  });

  it('a logger that fails is a warning: the run is not affected', async () => {
    const data = box.folder('data', { a: 'alpha' });
    const path = standIns(join(box.dir, 'bin'), { logger: '#!/bin/sh\necho "logger: socket /dev/log: No such file or directory" >&2\nexit 1\n' });
    const r = await box.batt(['--file', data, '--syslog'], { env: { PATH: path } });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stderr, /warning: could not send the run's summary to syslog: logger exited with code 1/);
  });
});
