import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { battBin, json, type Sandbox, sandbox, standIns } from '../lib/batt.js';

/** A folder with files, modes, mtimes, a symlink, an empty folder and an awkward name. */
function makeTree(root: string): void {
  mkdirSync(join(root, 'sub', 'deeper'), { recursive: true });
  mkdirSync(join(root, 'empty'));
  writeFileSync(join(root, 'a.txt'), 'alpha\n');
  writeFileSync(join(root, 'sub', 'b.bin'), Buffer.from(Array.from({ length: 70000 }, (_, i) => i % 251)));
  writeFileSync(join(root, 'sub', 'deeper', 'name with spaces & ü.txt'), 'gamma\n');
  writeFileSync(join(root, 'secret.key'), 'k');
  writeFileSync(join(root, 'skip.log'), 'log line\n');
  chmodSync(join(root, 'secret.key'), 0o600);
  chmodSync(join(root, 'sub', 'b.bin'), 0o751);
  symlinkSync('a.txt', join(root, 'link-to-a'));
  symlinkSync('/etc/hostname', join(root, 'abs-link'));
  utimesSync(join(root, 'a.txt'), new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
}

/** Every entry under root: type, mode, mtime (s), size/target, content hash. */
function snapshot(root: string, skip: (rel: string) => boolean = () => false): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const rel = relative(root, path);
      if (skip(rel)) continue;
      const st = lstatSync(path);
      if (st.isSymbolicLink()) out.set(rel, `link ${readlinkSync(path)}`);
      else if (st.isDirectory()) {
        out.set(rel, `dir ${(st.mode & 0o7777).toString(8)}`);
        walk(path);
      } else out.set(rel, `file ${(st.mode & 0o7777).toString(8)} ${Math.floor(st.mtimeMs / 1000)} ${readFileSync(path).toString('base64')}`);
    }
  };
  walk(root);
  return out;
}

describe('file backups', () => {
  let box: Sandbox;
  let data: string;
  before(() => {
    // One folder backed up with every compression and option side by side: its sizes differ by
    // design, so the size history that marks a backup suspect is off here (first-hour and
    // prune tests cover it).
    box = sandbox({ env: { BATT_SUSPECT_BELOW: '0' } });
    data = join(box.dir, 'data');
    mkdirSync(data);
    makeTree(data);
  });
  after(() => box.cleanup());

  for (const compression of ['zstd', 'gzip', 'none'] as const) {
    it(`backs up a folder (${compression}) that system tar restores file by file`, async () => {
      const dest = join(box.out, compression);
      const r = await box.batt(['--file', data, '--path', dest, '--compression', compression, '--json']);
      assert.equal(r.exitCode, 0, r.stderr);
      const report = json(r);
      assert.equal(report.status, 'ok');
      assert.equal(report.items.length, 1);
      const file: string = report.items[0].file;
      assert.equal(file, join(dest, 'file', `${relative('/', data).replace(/[^A-Za-z0-9._-]+/g, '_')}.tar${{ zstd: '.zst', gzip: '.gz', none: '' }[compression]}`));
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(statSync(join(dest, 'file')).mode & 0o777, 0o700);
      const restore = join(box.dir, `restore-${compression}`);
      mkdirSync(restore);
      const decompress = { zstd: ['-I', 'zstd'], gzip: ['-z'], none: [] }[compression];
      await execa('tar', ['-x', '-p', ...decompress, '-f', file, '-C', restore]);
      assert.deepEqual(snapshot(join(restore, relative('/', data))), snapshot(data));
      const sums = await execa('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(dest, 'file'), reject: false });
      assert.equal(sums.exitCode, 0, sums.stdout + sums.stderr);
      const actual = (await execa('sha256sum', [file])).stdout.split(' ')[0];
      assert.equal(report.items[0].sha256, actual);
    });
  }

  it('applies excludes from the config file, absolute ones included', async () => {
    const config = join(box.dir, 'excludes.json');
    writeFileSync(config, JSON.stringify({ file: { exclude: ['*.log', join(data, 'secret.key')], paths: [data] } }));
    const dest = join(box.out, 'excl');
    const r = await box.batt(['file', '--config', config, '--path', dest, '--compression', 'none', '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    const listing = (await execa('tar', ['-tf', json(r).items[0].file])).stdout;
    assert.match(listing, /a\.txt/);
    assert.doesNotMatch(listing, /skip\.log/);
    assert.doesNotMatch(listing, /secret\.key/);
  });

  it("reads YAML from the home's conf/ and JavaScript given with --config", async () => {
    writeFileSync(join(box.home, 'conf', 'batt.config.yaml'), `# comment\nfile:\n  paths:\n    - ${data}\n  exclude: ["*.bin"]\n`);
    const y = await box.batt(['file', '--path', join(box.out, 'yaml'), '--compression', 'none', '--json']);
    assert.equal(y.exitCode, 0, y.stderr);
    const listing = (await execa('tar', ['-tf', json(y).items[0].file])).stdout;
    assert.doesNotMatch(listing, /b\.bin/);
    writeFileSync(join(box.dir, 'conf.mjs'), `export default { file: { paths: [${JSON.stringify(join(data, 'sub'))}] } };\n`);
    const m = await box.batt(['file', '--config', join(box.dir, 'conf.mjs'), '--path', join(box.out, 'mjs'), '--json']);
    assert.equal(m.exitCode, 0, m.stderr);
    assert.equal(json(m).items[0].target, join(data, 'sub'));
    writeFileSync(join(box.home, 'conf', 'batt.config.yaml'), '# emptied\n');
  });

  it('--path wins over a destination from the config', async () => {
    const config = join(box.dir, 'destination.json');
    writeFileSync(config, JSON.stringify({ file: { destination: join(box.out, 'from-config') } }));
    const r = await box.batt(['--config', config, '--file', data, '--path', join(box.out, 'from-flag'), '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.ok(json(r).items[0].file.startsWith(join(box.out, 'from-flag', 'file')));
    const c = await box.batt(['--config', config, '--file', data, '--json']);
    assert.ok(json(c).items[0].file.startsWith(join(box.out, 'from-config', 'file')));
  });

  // Node 22.15+ has zstd in zlib: without the binary, batt compresses with it in-process (docs/benchmarks.md, "Node").
  const nodeZstd = typeof (zlib as { createZstdCompress?: unknown }).createZstdCompress === 'function';
  it(`without the zstd binary, ${nodeZstd ? 'zstd runs in-process' : 'falls back to gzip by default and fails clearly when zstd is asked for'}`, async () => {
    const env = { PATH: standIns(join(box.dir, 'bin-without-zstd'), { zstd: '' }, ['tar', 'gzip']) };
    const r = await box.batt(['--file', data, '--path', join(box.out, 'nozstd'), '--json'], { env });
    assert.equal(r.exitCode, 0, r.stderr);
    if (nodeZstd) {
      assert.match(json(r).items[0].file, /\.tar\.zst$/);
      assert.doesNotMatch(r.stderr, /gzip/);
      return;
    }
    assert.match(json(r).items[0].file, /\.tar\.gz$/);
    assert.match(r.stderr, /zstd is not installed: compressing with gzip/);
    const z = await box.batt(['--file', data, '--path', join(box.out, 'nozstd2'), '--compression', 'zstd', '--json'], { env });
    assert.equal(z.exitCode, 1);
    assert.match(json(z).items[0].error, /zstd is not installed or not on PATH.*apt-get install zstd/);
    assert.deepEqual(
      readdirSync(join(box.out, 'nozstd2', 'file')).filter((n) => !n.startsWith('batt-run') && n !== 'SHA256SUMS'),
      [],
      'no artifact, no temp file',
    );
  });

  it('expands strftime specifiers, {service} and {host} in --path', async () => {
    const r = await box.batt(['--file', data, '--path', join(box.out, 'dated', '%Y/%m/%d/%H%M/{host}-{service}'), '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    const id = json(r).id;
    const run = json(await box.batt(['show', String(id), '--json']));
    const started = new Date(run.startedAt);
    const p = (n: number): string => String(n).padStart(2, '0');
    const { hostname } = await import('node:os');
    const expected = join(
      box.out,
      'dated',
      String(started.getUTCFullYear()),
      p(started.getUTCMonth() + 1),
      p(started.getUTCDate()),
      `${p(started.getUTCHours())}${p(started.getUTCMinutes())}`,
      `${hostname()}-file`,
    );
    assert.equal(json(r).items[0].file.startsWith(`${expected}/`), true, `${json(r).items[0].file} is not under ${expected}`);
  });

  it('never overwrites: a second run into the same folder keeps both', async () => {
    const dest = join(box.out, 'twice');
    const first = json(await box.batt(['--file', data, '--path', dest, '--json']));
    const second = json(await box.batt(['--file', data, '--path', dest, '--json']));
    assert.notEqual(first.items[0].file, second.items[0].file);
    assert.match(second.items[0].file, new RegExp(`-run${second.id}\\.tar\\.zst$`));
    const sums = await execa('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(dest, 'file') });
    // Both artifacts and both manifests.
    assert.equal(sums.stdout.trim().split('\n').length, 4);
    assert.deepEqual(
      readdirSync(join(dest, 'file')).filter((n) => n.startsWith('.')),
      [],
      'no temporary files left',
    );
  });

  it('fails a missing path with a clear message while the other paths succeed', async () => {
    const r = await box.batt(['--file', join(box.dir, 'does-not-exist'), '--file', data, '--path', join(box.out, 'missing'), '--json']);
    assert.equal(r.exitCode, 1);
    const report = json(r);
    assert.equal(report.status, 'partial');
    const failed = report.items.find((i: any) => i.status === 'failed');
    assert.match(failed.error, /does-not-exist does not exist/);
    assert.ok(report.items.some((i: any) => i.status === 'ok'));
  });

  it('creates files 0600 and folders 0700 whatever the umask', async () => {
    const dest = join(box.out, 'umask');
    // umask 0 would leave new files 0666 and folders 0777 unless batt sets modes itself.
    const r = await execa('sh', ['-c', 'umask 0 && exec "$@"', 'sh', process.execPath, battBin, '--home', box.home, '--file', data, '--path', join(dest, 'a', 'b')], {
      reject: false,
      extendEnv: false,
      env: box.env(),
    });
    assert.equal(r.exitCode, 0, r.stderr);
    for (const dir of [dest, join(dest, 'a'), join(dest, 'a', 'b'), join(dest, 'a', 'b', 'file')]) assert.equal(statSync(dir).mode & 0o777, 0o700, dir);
    for (const name of readdirSync(join(dest, 'a', 'b', 'file'))) assert.equal(statSync(join(dest, 'a', 'b', 'file', name)).mode & 0o777, 0o600, name);
  });

  it('takes paths from BATT_FILE_PATHS', async () => {
    const r = await box.batt(['file', '--path', join(box.out, 'env'), '--json', '--config', join(box.dir, 'empty.json')], { env: { BATT_FILE_PATHS: data } });
    // --config points at a missing file: a usage error naming it
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /empty\.json does not exist/);
    writeFileSync(join(box.dir, 'empty.json'), '{}');
    const ok = await box.batt(['file', '--path', join(box.out, 'env'), '--json', '--config', join(box.dir, 'empty.json')], { env: { BATT_FILE_PATHS: data } });
    assert.equal(ok.exitCode, 0, ok.stderr);
    assert.equal(json(ok).items[0].target, data);
  });
});
