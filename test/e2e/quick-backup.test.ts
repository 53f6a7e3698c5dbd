/**
 * A backup's options are read without yargs when they are plain (commands/backup.command.ts,
 * quickBackup): the same meaning as through yargs, and anything unusual still goes to yargs,
 * which explains it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { json, sandbox, type BattResult } from '../lib/batt.js';

describe('plain backup options, read without yargs', () => {
  const box = sandbox();
  const a = box.folder('a', { 'one.txt': '1' });
  const b = box.folder('b', { 'two.txt': '2' });
  after(() => box.cleanup());
  const targets = (r: BattResult): string[] => json(r).items.map((i: { target: string }) => i.target);

  it('a target option takes the values after it, as yargs does; repeated, its values add up', async () => {
    assert.deepEqual(targets(await box.batt(['--file', a, b, '--json'])), [a, b]);
    assert.deepEqual(targets(await box.batt(['file', '--file', a, '--json', '--file', b, '-j', '1'])), [a, b]);
    assert.deepEqual(targets(await box.batt(['--file=' + a, '-q', '--json'])), [a]);
  });

  it('-p, --path and --destination name the destination; -j2 and --compression-level=5 are read', async () => {
    const r = await box.batt(['--file', a, '-p', join(box.dir, 'elsewhere', '{service}'), '-j2', '--compression-level=5', '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.ok(json(r).items[0].file.startsWith(join(box.dir, 'elsewhere', 'file')), json(r).items[0].file);
    const eq = await box.batt(['--file', a, `-p=${join(box.dir, 'eq', '{service}')}`, '--json']);
    assert.ok(json(eq).items[0].file.startsWith(join(box.dir, 'eq', 'file')), `-p=DIR as yargs reads it: ${json(eq).items[0].file}`);
    const d = await box.batt(['--file', a, '--destination', join(box.dir, 'other', '{service}'), '--json']);
    assert.ok(json(d).items[0].file.startsWith(join(box.dir, 'other', 'file')));
  });

  it('what is not plain goes to yargs and is explained there, exit 2', async () => {
    const twice = await box.batt(['--file', a, '-j', '1', '-j', '2']);
    assert.equal(twice.exitCode, 2);
    assert.match(twice.stderr, /concurrency/);
    const unknown = await box.batt(['--file', a, '--nonsense']);
    assert.equal(unknown.exitCode, 2);
    assert.match(unknown.stderr, /nonsense/);
    const bogus = await box.batt(['--file', a, '--compression', 'bogus']);
    assert.equal(bogus.exitCode, 2);
    assert.match(bogus.stderr, /--compression: "bogus" is not one of zstd, gzip, none/);
    const level = await box.batt(['--file', a, '--compression-level', 'x']);
    assert.equal(level.exitCode, 2);
    assert.match(level.stderr, /--compression-level must be a whole number from 1 to 19 \(gzip: 1 to 9\), got something else/);
    const flagValue = await box.batt(['--file', a, '--bundle', 'false', '--json']);
    assert.equal(flagValue.exitCode, 0, 'yargs reads `--bundle false` as the flag off, not as a service named false');
    assert.equal(json(flagValue).bundle ?? null, null);
    const flagOn = await box.batt(['--file', a, '--bundle', 'true', '--json']);
    assert.match(json(flagOn).bundle, /batt-run-\d+\.tar$/, 'and `--bundle true` as the flag on');
    const empty = await box.batt(['--file', '']);
    assert.equal(empty.exitCode, 2);
    assert.match(empty.stderr, /--file needs a value/);
  });
});
