import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { forgetArtifacts, parseSumLine, sumLine, writeAtomic, writeManifests, type ManifestItem } from './manifest.js';
import { artifactBase } from '../text/names.js';
import { splitName } from '../plugins/scripts.js';

describe('names and checksum lines', () => {
  it('writes sha256sum lines, escaping names as GNU coreutils does', () => {
    const h = 'a'.repeat(64);
    assert.equal(sumLine(h, 'db.sql.zst'), `${h}  db.sql.zst`);
    assert.equal(sumLine(h, 'a\\b\nc'), `\\${h}  a\\\\b\\nc`);
  });

  it('makes file-name-safe artifact names', () => {
    assert.equal(artifactBase('/var/www'), 'var_www');
    assert.equal(artifactBase('/'), 'root');
    assert.equal(artifactBase('/srv/a b/ü'), 'srv_a_b_');
    assert.equal(artifactBase('--result-file=/tmp/x'), '_result-file_tmp_x');
    assert.equal(artifactBase('../..'), '__..');
  });

  it('splits the extension a unique suffix goes before', () => {
    assert.deepEqual(splitName('db.sql.gz'), ['db', '.sql.gz']);
    assert.deepEqual(splitName('10.0.0.1_x.json'), ['10.0.0.1_x', '.json']);
    assert.deepEqual(splitName('archive.tar.zst'), ['archive', '.tar.zst']);
    assert.deepEqual(splitName('README'), ['README', '']);
    assert.deepEqual(splitName('.hidden'), ['.hidden', '']);
  });
});

describe('SHA256SUMS and the manifests', () => {
  const sha = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
  /** What `sha256sum -c` would say: every listed file's name, and whether it matches. */
  const check = (dir: string): Record<string, boolean> =>
    Object.fromEntries(
      readFileSync(join(dir, 'SHA256SUMS'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const { sha256, name } = parseSumLine(line)!;
          return [name, existsSync(join(dir, name)) && sha(readFileSync(join(dir, name))) === sha256];
        }),
    );
  const run = (id: number) => ({ id, startedAt: '2026-01-02T03:04:05.000Z', host: 'h', user: 'u', destination: '/x', battVersion: '0' });
  const artifact = (dir: string, name: string): ManifestItem => {
    writeFileSync(join(dir, name), name);
    return {
      service: 'file',
      target: `/${name}`,
      file: join(dir, name),
      bytes: name.length,
      sha256: sha(name),
      compression: null,
      startedAt: '2026-01-02T03:04:06.000Z',
      finishedAt: '2026-01-02T03:04:07.000Z',
    };
  };

  it("lists each run's manifest beside its artifacts; a prune rewrites or removes the manifest's line with it, and can be repeated", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'batt-sums-'));
    try {
      const failed = [
        { service: 'file', target: '/gone', status: 'failed' as const, startedAt: '2026-01-02T03:04:06.000Z', finishedAt: '2026-01-02T03:04:06.500Z', error: 'no such folder' },
      ];
      await writeManifests(run(1), [artifact(dir, 'a1'), artifact(dir, 'b1')], () => dir, failed);
      await writeManifests(run(2), [artifact(dir, 'a2')], () => dir);
      assert.deepEqual(check(dir), { a1: true, b1: true, 'batt-run-1.json': true, a2: true, 'batt-run-2.json': true });
      assert.deepEqual(JSON.parse(readFileSync(join(dir, 'batt-run-1.json'), 'utf8')).failed, failed);

      const before = readFileSync(join(dir, 'batt-run-1.json'), 'utf8');
      await forgetArtifacts(dir, new Set(['a1']), [1]);
      assert.deepEqual(check(dir), { b1: true, 'batt-run-1.json': true, a2: true, 'batt-run-2.json': true });
      assert.deepEqual(
        JSON.parse(readFileSync(join(dir, 'batt-run-1.json'), 'utf8')).items.map((i: { name: string }) => i.name),
        ['b1'],
      );
      const sums = readFileSync(join(dir, 'SHA256SUMS'), 'utf8');
      // As if the prune had died after SHA256SUMS and before the manifest: the next one finishes it.
      writeFileSync(join(dir, 'batt-run-1.json'), before);
      await forgetArtifacts(dir, new Set(['a1']), [1]);
      assert.equal(readFileSync(join(dir, 'SHA256SUMS'), 'utf8'), sums);
      assert.deepEqual(check(dir), { b1: true, 'batt-run-1.json': true, a2: true, 'batt-run-2.json': true });
      await forgetArtifacts(dir, new Set(['a1']), [1]);
      assert.equal(readFileSync(join(dir, 'SHA256SUMS'), 'utf8'), sums, 'repeating it changes nothing');

      // A manifest changed behind batt's back keeps failing the check, whether a prune leaves it
      // or rewrites it.
      writeFileSync(join(dir, 'batt-run-2.json'), `${readFileSync(join(dir, 'batt-run-2.json'), 'utf8')} `);
      await forgetArtifacts(dir, new Set(['b1']), [1]);
      assert.ok(!existsSync(join(dir, 'batt-run-1.json')));
      assert.deepEqual(check(dir), { a2: true, 'batt-run-2.json': false });
      await writeManifests(run(3), [artifact(dir, 'a3'), artifact(dir, 'b3')], () => dir);
      writeFileSync(join(dir, 'batt-run-3.json'), readFileSync(join(dir, 'batt-run-3.json'), 'utf8').replace('"u"', '"mallory"'));
      await forgetArtifacts(dir, new Set(['a3']), [3]);
      assert.deepEqual(check(dir), { a2: true, 'batt-run-2.json': false, b3: true, 'batt-run-3.json': false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('writeAtomic', () => {
  it('never writes through a link planted at a temporary name batt once used (<file>.batt-tmp-<pid>)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'batt-atomic-'));
    try {
      const victim = join(dir, 'victim');
      writeFileSync(victim, 'precious');
      const path = join(dir, 'SHA256SUMS');
      symlinkSync(victim, `${path}.batt-tmp-${process.pid}`);
      await writeAtomic(path, 'new text\n');
      assert.equal(readFileSync(victim, 'utf8'), 'precious');
      assert.equal(readFileSync(path, 'utf8'), 'new text\n');
      assert.equal(statSync(path).mode & 0o777, 0o600);
      // What it leaves: the file and the planted link, no temporary file of its own.
      assert.deepEqual(readdirSync(dir).sort(), ['SHA256SUMS', `SHA256SUMS.batt-tmp-${process.pid}`, 'victim']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('removes its temporary file when the write fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'batt-atomic-'));
    try {
      // Renaming a file over a folder fails after the temporary file was written.
      mkdirSync(join(dir, 'SHA256SUMS'));
      writeFileSync(join(dir, 'SHA256SUMS', 'keep'), 'x');
      await assert.rejects(writeAtomic(join(dir, 'SHA256SUMS'), 'text'));
      assert.deepEqual(readdirSync(dir), ['SHA256SUMS']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
