/**
 * What a backup shows while it runs: live lines on a terminal (a real pseudo-terminal, from
 * util-linux's `script`), plain lines off one, one JSON line per event with --json, nothing with -q.
 * The backed-up folder's `tar` is a stand-in that writes its archive slowly, so every run lasts
 * a few seconds whatever the machine.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { battBin, events, json, realTool, sandboxFor, standIns } from '../lib/batt.js';

/** A PATH whose tar writes `steps` pieces of 2 MiB that do not compress, `pause` seconds apart. */
const slowTar = (dir: string, steps: number, pause: number): string =>
  standIns(dir, {
    tar: `#!/bin/sh\ncase " $* " in *" --version "*) exec '${realTool('tar')}' "$@";; esac\ni=0\nwhile [ $i -lt ${steps} ]; do head -c 2097152 /dev/urandom; sleep ${pause}; i=$((i+1)); done\n`,
  });

describe('progress', () => {
  const box = sandboxFor('each');

  it('on a terminal: a live line per running item (bytes, rate, elapsed), redrawn in place, then the summary table', async () => {
    const data = box.folder('data', { 'a.txt': 'alpha\n' });
    const env = box.env({ PATH: slowTar(join(box.dir, 'bin'), 5, 0.6), TERM: 'xterm' });
    const command = [process.execPath, battBin, '--home', box.home, '--file', data].map((a) => `'${a}'`).join(' ');
    const r = await execa('script', ['-qfec', command, '/dev/null'], { reject: false, extendEnv: false, env, timeout: 60_000 });
    assert.equal(r.exitCode, 0, r.stdout);
    const screen = r.stdout;
    assert.match(screen, new RegExp(`file ${data}: [\\d.]+ (KiB|MiB), [\\d.]+ (B|KiB|MiB)/s, \\d+s`), 'a live line with bytes, rate and elapsed time');
    assert.match(screen, /\x1b\[\d+A\x1b\[0J/, 'redrawn in place: cursor up, clear below');
    assert.match(screen, /STATUS\s.*SERVICE\s.*TARGET/, 'the summary table');
    assert.match(screen, /run \d+: .*ok/);
  });

  it('off a terminal: plain lines at most every few seconds, no escape sequences', async () => {
    const data = box.folder('data', { 'a.txt': 'alpha\n' });
    const r = await box.batt(['--file', data], { env: { PATH: slowTar(join(box.dir, 'bin'), 8, 1) } });
    assert.equal(r.exitCode, 0, r.stderr);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith(`file ${data}: `));
    assert.ok(lines.length >= 1 && lines.length <= 2, `one or two progress lines in an 8 s run: ${JSON.stringify(r.stderr)}`);
    assert.match(lines[0], /: [\d.]+ (KiB|MiB), [\d.]+ (B|KiB|MiB)\/s, \d+s$/);
    assert.doesNotMatch(r.stderr + r.stdout, /\x1b/);
  });

  it('--json: one event per line, in order, the last the run report; -q: nothing at all', async () => {
    const data = box.folder('data', { 'a.txt': 'alpha\n' });
    const env = { PATH: slowTar(join(box.dir, 'bin'), 4, 0.6) };
    const r = await box.batt(['--file', data, '--json'], { env });
    assert.equal(r.exitCode, 0, r.stderr);
    const all = events(r);
    const types = all.map((e) => e.type);
    assert.equal(types[0], 'run-started');
    assert.equal(types[1], 'item-started');
    assert.ok(types.includes('item-progress'), types.join(' '));
    assert.deepEqual(types.slice(-2), ['item-finished', 'run-finished']);
    assert.ok(
      all.every((e) => e.kind === 'backup'),
      'each says which kind of run it belongs to',
    );
    const progress = all.filter((e) => e.type === 'item-progress');
    assert.ok(
      progress.every((e, i) => e.service === 'file' && e.target === data && e.bytes > 0 && (i === 0 || e.bytes >= progress[i - 1].bytes)),
      JSON.stringify(progress),
    );
    const report = json(r);
    assert.deepEqual(report, all[all.length - 1]);
    assert.equal(report.status, 'ok');
    assert.equal(report.items[0].sha256, all.find((e) => e.type === 'item-finished').sha256);

    const quiet = await box.batt(['--file', data, '-q'], { env });
    assert.equal(quiet.exitCode, 0);
    assert.equal(quiet.stdout + quiet.stderr, '');
  });
});
