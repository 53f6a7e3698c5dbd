import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { execa } from 'execa';
import { battBin, endlessTar, json, lockFree, processWatch, sandboxFor } from '../lib/batt.js';

// Ctrl-C during a dump: children stopped, partial file removed, run `aborted`, lock released, exit 130.
// The dump never ends by itself (endlessTar), so the signal always lands while the backup is being written.
describe('interrupting a run', () => {
  const box = sandboxFor('all');
  let data: string;
  let path: string;
  const marker = (): string => join(box.dir, 'tar-started');
  before(() => {
    data = box.folder('data', { a: 'alpha' });
    path = endlessTar(join(box.dir, 'bin'), marker());
  });

  for (const compression of ['gzip', 'zstd']) {
    it(`with ${compression} compression`, async () => {
      rmSync(marker(), { force: true });
      const dest = join(box.out, compression);
      const run = execa(process.execPath, [battBin, '--home', box.home, '--file', data, '--path', dest, '--compression', compression], {
        reject: false,
        buffer: true,
        extendEnv: false,
        env: box.env({ PATH: path }),
      });
      let seen = '';
      run.stderr!.on('data', (c: Buffer) => {
        seen += c.toString();
      });
      // Interrupt once the dump is being written: tar has written its first MiB and its temporary file exists.
      const writing = (): boolean => existsSync(marker()) && existsSync(join(dest, 'file')) && readdirSync(join(dest, 'file')).some((n) => n.startsWith('.batt-tmp'));
      for (let i = 0; i < 200 && !writing(); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(writing(), `the backup started writing: ${seen}`);
      const tar = processWatch(Number(readFileSync(marker(), 'utf8')));
      assert.ok(tar.running, 'the stand-in tar is running');
      run.kill('SIGINT');
      const result = await run;
      assert.equal(await tar.ended(), true, 'batt stopped its tar');
      assert.equal(result.exitCode, 130, String(result.stderr));
      assert.match(String(result.stderr), /SIGINT received/);
      const leftovers = existsSync(join(dest, 'file')) ? readdirSync(join(dest, 'file')).filter((n) => n.startsWith('.batt-tmp') || n.endsWith('.gz') || n.endsWith('.zst')) : [];
      assert.deepEqual(leftovers, []);
      assert.equal(await lockFree(box.home), true, 'lock released');
      const runs = json<any[]>(await box.batt(['runs', '--json', '--last', '1']));
      assert.equal(runs[0].status, 'aborted');
    });
  }
});
