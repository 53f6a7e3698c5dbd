import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { battBin, json, sandbox, type Sandbox } from '../lib/batt.js';

// Ctrl-C during a dump: children stopped, partial file removed, run `aborted`, lock released, exit 130.
describe('interrupting a run', () => {
  let box: Sandbox;
  let data: string;
  before(() => {
    box = sandbox();
    data = box.folder('data', { zeros: '' });
    truncateSync(join(data, 'zeros'), 64 * 1024 ** 3); // sparse: instant to make, far too slow to compress before the signal
  });
  after(() => box.cleanup());

  for (const compression of ['gzip', 'zstd']) {
    it(`with ${compression} compression`, async () => {
      const dest = join(box.out, compression);
      const run = execa(process.execPath, [battBin, '--home', box.home, '--file', data, '--path', dest, '--compression', compression], { reject: false, buffer: true, extendEnv: false, env: box.env() });
      let seen = '';
      run.stderr!.on('data', (c: Buffer) => { seen += c.toString(); });
      // Interrupt once the dump is being written: its temporary file exists.
      const writing = (): boolean => existsSync(join(dest, 'file')) && readdirSync(join(dest, 'file')).some((n) => n.startsWith('.batt-tmp'));
      for (let i = 0; i < 100 && !(/started/.test(seen) && writing()); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(writing(), `the backup started writing: ${seen}`);
      run.kill('SIGINT');
      const result = await run;
      assert.equal(result.exitCode, 130, String(result.stderr));
      assert.match(String(result.stderr), /SIGINT received/);
      const leftovers = existsSync(join(dest, 'file')) ? readdirSync(join(dest, 'file')).filter((n) => n.startsWith('.batt-tmp') || n.endsWith('.gz') || n.endsWith('.zst')) : [];
      assert.deepEqual(leftovers, []);
      assert.ok(!existsSync(join(box.home, 'batt.lock')), 'lock released');
      const runs = json<any[]>(await box.batt(['runs', '--json', '--last', '1']));
      assert.equal(runs[0].status, 'aborted');
    });
  }
});
