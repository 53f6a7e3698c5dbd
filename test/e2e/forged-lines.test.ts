/**
 * Outside text cannot forge lines in batt's log or output (docs/security.md, "Hostile input is bounded"): a path, a name or
 * a tool's stderr holding a newline, a carriage return or an escape sequence is shown escaped
 * (\n, \r, \x1b) in the log file, on stdout and stderr, in tables, messages and `batt show`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { type BattResult, logLines, type Sandbox, sandboxFor } from '../lib/batt.js';

/** The line an attacker would like batt's readers to believe. */
const forged = 'batt: run 99 ok';
/** The time of a fake log line a script writes. */
const fakeTime = '2026-01-01T00:00:00.000Z';
/** What batt writes between its own lines is \n: nothing else below U+0020, no DEL, no C1, no bidi override. */

const raw = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

function clean(what: string, text: string): void {
  const at = raw.exec(text);
  assert.equal(at, null, `${what} holds a raw control character ${JSON.stringify(at?.[0])} at ${at?.index}:\n${JSON.stringify(text)}`);
  const fake = (l: string): boolean => l.trimStart().startsWith(forged) || l.trimStart().startsWith(fakeTime);
  for (const line of text.split('\n')) {
    // A log line is "<time> <level> <message>": neither the line nor its message may be a forged one.
    assert.ok(!fake(line) && !fake(line.replace(/^\S+Z (info|warning|error) /, '')), `${what} has a forged line of its own: ${JSON.stringify(line)}`);
  }
}

const logOf = (box: Sandbox): string =>
  readdirSync(join(box.home, 'logs'))
    .map((f) => readFileSync(join(box.home, 'logs', f), 'utf8'))
    .join('');

function cleanAll(what: string, r: BattResult): void {
  clean(`${what}: stdout`, r.stdout);
  clean(`${what}: stderr`, r.stderr);
}

describe('a path with a newline, a fake log line and escape sequences', () => {
  const box = sandboxFor('all');
  let folder: string;
  before(() => {
    folder = join(box.dir, `data\n${forged}\r\x1b[2J\x1b[31mred\x1b]0;title\x07\u202eevil\x9b1m`);
    mkdirSync(folder);
    writeFileSync(join(folder, 'x'), 'x');
  });

  it('is backed up with --file, and shown escaped in the log, the table, runs, show and check', async () => {
    const r = await box.batt(['--file', folder]);
    assert.equal(r.exitCode, 0, r.stderr);
    cleanAll('backup', r);
    assert.match(r.stdout, /data\\nbatt: run 99 ok\\r\\x1b\[2J\\x1b\[31mred/, 'the path is shown, escaped');
    assert.match(r.stderr, /data\\nbatt: run 99 ok/);
    for (const args of [['runs'], ['show', 'latest'], ['catalog', 'check'], ['verify'], ['prune', '--keep-last', '1', '--dry-run']]) {
      const o = await box.batt(args);
      assert.equal(o.exitCode, 0, `${args.join(' ')}: ${o.stderr}`);
      cleanAll(args.join(' '), o);
    }
    assert.match((await box.batt(['show', 'latest'])).stdout, /data\\nbatt: run 99 ok/);
    const log = logOf(box);
    assert.match(logLines(box).join('\n'), /data\\nbatt: run 99 ok\\r\\x1b\[2J/, "the log's message names the path, escaped");
    clean('log', log);
  });

  it('is escaped in error messages and hints, and in a failed item', async () => {
    const missing = `${folder}-gone\n${forged}`;
    const r = await box.batt(['--file', missing]);
    assert.equal(r.exitCode, 1);
    cleanAll('failed backup', r);
    assert.match(r.stderr, /-gone\\nbatt: run 99 ok/);
    const usage = await box.batt(['--file', folder, '--path', join(box.dir, `%Q\n${forged}\x1b[31m`)]);
    assert.equal(usage.exitCode, 2);
    cleanAll('usage error', usage);
    const show = await box.batt(['show', `1\n${forged}\x1b[2J`]);
    assert.equal(show.exitCode, 2);
    cleanAll('show error', show);
    clean('log', logOf(box));
  });
});

describe("a drop-in script's stderr", () => {
  const box = sandboxFor('all');
  before(async () => {
    assert.equal((await box.batt(['list'])).exitCode, 0, 'the home is set up');
    // It writes a fake log line of batt's own form, a fake "run ok", a carriage return that would
    // overwrite what came before, and escape sequences that clear the screen and colour it.
    writeFileSync(
      join(box.home, 'scripts-available', 'backup-forge'),
      `#!/bin/sh
printf 'working\\n2026-01-01T00:00:00.000Z info [forge] everything is fine\\n${forged}\\r\\033[2J\\033[31mred\\033[0m\\n' >&2
if [ "$1" = fail ]; then printf 'last words\\n${forged}\\n\\033]0;owned\\007' >&2; exit 3; fi
mkdir -p "$BATT_DEST/forge" && echo data > "$BATT_DEST/forge/out.txt"
`,
      { mode: 0o755 },
    );
  });

  it('cannot forge lines or inject escapes: not in the log, the summary, nor in `batt show`', async () => {
    const ok = await box.batt(['forge']);
    assert.equal(ok.exitCode, 0, ok.stderr);
    cleanAll('script run', ok);
    const failed = await box.batt(['forge', '--forge-db', 'fail']);
    assert.equal(failed.exitCode, 1);
    cleanAll('failed script run', failed);
    assert.match(failed.stderr, /\\x1b\]0;owned\\x07/, 'the failure shows the stderr, escaped');
    for (const run of ['1', '2']) {
      const show = await box.batt(['show', run]);
      assert.equal(show.exitCode, 0, show.stderr);
      cleanAll(`show ${run}`, show);
      // Each line the script wrote is shown on a line of its own, marked as the script's, escaped.
      assert.match(show.stdout, /^ {4}log {5}\| working$/m);
      assert.match(show.stdout, new RegExp(`^ {12}\\| ${forged}\\\\r\\\\x1b\\[2J\\\\x1b\\[31mred\\\\x1b\\[0m$`, 'm'));
    }
    clean('log', logOf(box));
  });
});
