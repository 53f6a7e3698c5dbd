import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { json, sandbox, type Sandbox } from '../lib/batt.js';

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
    assert.deepEqual(names.filter((n) => n.startsWith('.')), [], 'no temporary file left');
    // Exactly what the first run left: its artifact, its manifest, SHA256SUMS; nothing of the failed one.
    const firstFile = json(first).items[0].file as string;
    assert.deepEqual(names.sort(), [basename(firstFile), `batt-run-${json(first).id}.json`, 'SHA256SUMS'].sort());
    const sums = await execa('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(disk, 'file'), reject: false });
    assert.equal(sums.exitCode, 0, `earlier backup intact: ${sums.stdout}${sums.stderr}`);
    const runs = json<any[]>(await box.batt(['runs', '--json']));
    assert.deepEqual(runs.map((x) => x.status), ['failed', 'ok']);
  });
});
