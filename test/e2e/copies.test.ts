/**
 * Copies in other storages (`storage:`, docs/storage.md), with a local folder as the storage:
 * the same code path every storage takes (put, read back, record), the conformance suite proving
 * each storage type separately.
 */
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { json, sandbox, type Sandbox } from '../lib/batt.js';

const conf = (box: Sandbox): string => join(box.home, 'conf', 'batt.config.yaml');

describe('copies in another storage', () => {
  let box: Sandbox;
  let data: string;
  let offsite: string;
  before(() => {
    box = sandbox();
    data = box.folder('data', { 'a.txt': 'alpha\n'.repeat(1000), 'b.txt': 'beta' });
    offsite = join(box.dir, 'offsite');
    appendFileSync(conf(box), `storage:\n  - name: second-disk\n    type: local\n    path: ${JSON.stringify(offsite)}\n    prefix: "{host}"\n`);
  });
  after(() => box.cleanup());

  it('every artifact, manifest and SHA256SUMS is copied and read back; show lists the copy', async () => {
    const run = json(await box.batt(['--file', data, '--json']));
    assert.equal(run.status, 'ok');
    const shown = json(await box.batt(['show', String(run.id), '--json']));
    const [copy] = shown.items[0].copies;
    assert.equal(copy.storage, 'second-disk');
    assert.equal(copy.sha256, shown.items[0].sha256);
    assert.ok(copy.key.startsWith(offsite + '/'), copy.key);
    assert.deepEqual(readFileSync(copy.key), readFileSync(shown.items[0].file));
    const folder = join(copy.key, '..');
    assert.ok(existsSync(join(folder, 'SHA256SUMS')) && existsSync(join(folder, `batt-run-${run.id}.json`)), 'manifest and sums are copied too');
    const text = (await box.batt(['show', String(run.id)])).stdout;
    assert.match(text, /copy {4}second-disk: .*\(.*read back/);
  });

  it('a backup whose local file is gone is fetched back from its copy and restored', async () => {
    const run = json(await box.batt(['--file', data, '--json']));
    const file = run.items[0].file as string;
    rmSync(file);
    const to = join(box.dir, 'restored');
    const r = await box.batt(['restore', String(run.id), 'file', '--to', to]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stderr + r.stdout, /fetched .* from second-disk/);
    assert.equal(readFileSync(join(to, data.replace(/^\//, ''), 'a.txt'), 'utf8'), 'alpha\n'.repeat(1000));
    assert.ok(existsSync(file), 'the local copy is back in its place');
  });

  it('a copy that does not match is refused: the backup is not restored from it', async () => {
    const run = json(await box.batt(['--file', data, '--json']));
    const shown = json(await box.batt(['show', String(run.id), '--json']));
    rmSync(shown.items[0].file);
    writeFileSync(shown.items[0].copies[0].key, 'flipped bytes');
    const r = await box.batt(['restore', String(run.id), 'file', '--to', join(box.dir, 'nope')]);
    assert.notEqual(r.exitCode, 0);
    assert.match(r.stderr, /no copy of it could be fetched.*second-disk: .*does not match the catalog/);
    assert.equal(existsSync(join(box.dir, 'nope')), false, 'nothing restored');
  });

  it('prune removes the copies with the backups', async () => {
    const runs: { id: number }[] = json(await box.batt(['runs', '--json']));
    const oldest = Math.min(...runs.map((r) => r.id));
    const keys: string[] = json(await box.batt(['show', String(oldest), '--json'])).items.flatMap((i: { copies: { key: string }[] }) => i.copies.map((c) => c.key));
    assert.ok(keys.length > 0 && keys.every((k) => existsSync(k)), 'the oldest run has copies');
    const r = await box.batt(['prune', '--keep-last', '1']);
    assert.equal(r.exitCode, 0, r.stderr);
    for (const key of keys) assert.equal(existsSync(key), false, `${key} is gone`);
  });
});

describe('a required copy that fails', () => {
  let box: Sandbox;
  before(() => {
    box = sandbox();
  });
  after(() => box.cleanup());

  it('fails the item, keeps the local file, and no catalog row claims a copy', async () => {
    const data = box.folder('data', { x: 'x' });
    const blocked = join(box.dir, 'blocked');
    mkdirSync(blocked);
    chmodSync(blocked, 0o500);
    // root ignores modes: a file where the storage's folder would be blocks it for everyone.
    writeFileSync(join(blocked, 'host'), 'not a folder');
    appendFileSync(conf(box), `storage:\n  - name: broken\n    type: local\n    path: ${JSON.stringify(join(blocked, 'host'))}\n`);
    const r = await box.batt(['--file', data, '--json']);
    assert.equal(r.exitCode !== 0, true);
    const run = json(r);
    assert.equal(run.items[0].status, 'failed');
    assert.match(run.items[0].error, /the copy to broken .* failed/);
    const shown = json(await box.batt(['show', String(run.id), '--json']));
    assert.deepEqual(shown.items[0].copies, []);
    assert.ok(existsSync(shown.items[0].file), 'the local file stays');
    chmodSync(blocked, 0o700);
  });
});
