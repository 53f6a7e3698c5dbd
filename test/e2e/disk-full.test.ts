import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { json, type Sandbox, sandbox } from '../lib/batt.js';

// A real full disk: a 1 MiB tmpfs as the destination (needs root, as CI has).
describe('a full disk', { skip: process.getuid?.() !== 0 ? 'mounting a tmpfs needs root' : false }, () => {
  let box: Sandbox;
  let disk: string;
  before(async () => {
    box = sandbox();
    disk = join(box.dir, 'small-disk');
    mkdirSync(disk);
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', disk]);
  });
  after(async () => {
    await execa('umount', [disk], { reject: false });
    box.cleanup();
  });

  it('fails the item with a message that says so, removes the partial file and keeps earlier backups', async () => {
    const small = join(box.dir, 'small');
    mkdirSync(small);
    writeFileSync(join(small, 'a.txt'), 'small\n');
    const first = await box.batt(['--file', small, '--path', disk, '--json']);
    assert.equal(first.exitCode, 0, first.stderr);

    const big = join(box.dir, 'big');
    mkdirSync(big);
    writeFileSync(join(big, 'random.bin'), randomBytes(3 * 1024 * 1024)); // incompressible
    const r = await box.batt(['--file', big, '--path', disk, '--json']);
    assert.equal(r.exitCode, 1);
    const report = json(r);
    assert.equal(report.status, 'failed');
    assert.match(report.items[0].error, /cannot write the backup in .*no space left on device.*the disk is full: free space or point --path at a bigger disk/i);
    assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+/, 'no stack trace');

    const names = readdirSync(join(disk, 'file'));
    assert.deepEqual(
      names.filter((n) => n.startsWith('.')),
      [],
      'no temporary file left',
    );
    // Exactly what the first run left: its artifact, its manifest, SHA256SUMS; nothing of the failed one.
    const firstFile = json(first).items[0].file as string;
    assert.deepEqual(names.sort(), [basename(firstFile), `batt-run-${json(first).id}.json`, 'SHA256SUMS'].sort());
    const sums = await execa('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(disk, 'file'), reject: false });
    assert.equal(sums.exitCode, 0, `earlier backup intact: ${sums.stdout}${sums.stderr}`);
    const runs = json<any[]>(await box.batt(['runs', '--json']));
    assert.deepEqual(
      runs.map((x) => x.status),
      ['failed', 'ok'],
    );
  });

  it('a disk that fills while the manifest or SHA256SUMS is written: the item fails, its file goes, nothing says ok', async () => {
    const tiny = join(box.dir, 'tiny-disk');
    mkdirSync(tiny);
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', tiny]);
    try {
      const first = json(await box.batt(['--file', box.folder('one', { a: 'a' }), '--path', tiny, '--json']));
      assert.equal(first.status, 'ok');
      // Fill the disk, then free one page: room for the next backup's small file, none for its manifest.
      const filler = join(tiny, 'filler');
      await execa('sh', ['-c', `head -c 1000000 /dev/zero > '${filler}'`], { reject: false });
      await execa('truncate', ['-s', '-4096', filler]);
      const r = await box.batt(['--file', box.folder('two', { b: 'b' }), '--path', tiny, '--json']);
      assert.equal(r.exitCode, 1, r.stderr);
      const report = json(r);
      assert.equal(report.items[0].status, 'failed');
      assert.match(report.items[0].error, /written but its SHA256SUMS line or manifest could not be: .*no space left on device.*removed again/i);
      const names = readdirSync(join(tiny, 'file')).sort();
      assert.deepEqual(names, [basename(first.items[0].file), `batt-run-${first.id}.json`, 'SHA256SUMS'].sort(), "only the first run's files; no temporary file");
      assert.equal((await execa('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: join(tiny, 'file'), reject: false })).exitCode, 0);
      const ok = (await execa('sqlite3', [join(box.home, 'catalog.db'), `select count(*) from items where run_id = ${report.id} and status = 'ok'`])).stdout.trim();
      assert.equal(ok, '0', 'no row says ok');
      assert.equal((await box.batt(['verify', String(first.id)])).exitCode, 0, 'the earlier backup still verifies');
    } finally {
      await execa('umount', [tiny], { reject: false });
    }
  });
});
