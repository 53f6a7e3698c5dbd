/**
 * Hostile input of every kind (docs/security.md, "Hostile input is bounded"): config files built to exhaust time or memory,
 * flags given twice, odd environment values, a catalog.db that is not batt's, and manifests that
 * are not what they claim. Each gets one message naming the problem and the fix, a documented
 * exit code, no stack trace and no "internal error", within a time bound.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { execa } from 'execa';
import { battBin, type BattResult, firstBackup, json, type Sandbox, sandboxFor, dataFor } from '../lib/batt.js';

/** One clear message: exit `code`, no "internal error", one `batt:` line, and it took under `ms`. */
async function refused(box: Sandbox, args: string[], code: number, message: RegExp, options: { env?: Record<string, string>; ms?: number } = {}): Promise<BattResult> {
  const ms = options.ms ?? 10_000;
  const started = Date.now();
  const r = await box.batt(args, { timeout: ms + 5_000, env: options.env });
  const took = Date.now() - started;
  assert.ok(took < ms, `batt ${args.join(' ')} took ${took} ms`);
  assert.equal(r.exitCode, code, `exit of batt ${args.join(' ')}:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /internal error/);
  assert.match(r.stderr, message);
  assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('batt:')).length, 1, `one message:\n${r.stderr}`);
  return r;
}

describe('configuration files cannot exhaust time or memory', () => {
  const { box, data } = dataFor({ x: 'x' });

  it('YAML aliases that expand to billions of values (billion laughs) are refused at once', async () => {
    const lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
    for (let i = 1; i < 10; i++)
      lines.push(
        `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const conf = join(box.dir, 'laughs.yaml');
    writeFileSync(conf, `${lines.join('\n')}\n`);
    const r = await refused(box, ['--config', conf, '--file', data], 2, /laughs\.yaml: .*more than 10000 values/);
    assert.match(r.stderr, /aliases/);
  });

  it('deep nesting, in JSON or YAML, is refused with the file named', async () => {
    const deepJson = join(box.dir, 'deep.json');
    writeFileSync(deepJson, `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`);
    await refused(box, ['--config', deepJson, '--file', data], 2, /deep\.json: .*nested more than \d+ levels/);
    const deepYaml = join(box.dir, 'deep.yaml');
    writeFileSync(deepYaml, `file:\n${Array.from({ length: 40 }, (_, i) => `${'  '.repeat(i + 1)}k${i}:\n`).join('')}`);
    await refused(box, ['--config', deepYaml, '--file', data], 2, /deep\.yaml: .*nested more than \d+ levels/);
    const flowYaml = join(box.dir, 'flow.yaml');
    writeFileSync(flowYaml, `x: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`);
    await refused(box, ['--config', flowYaml, '--file', data], 2, /flow\.yaml/);
  });

  it('a config file over 1 MiB is refused before it is read, given or found in conf/', async () => {
    const huge = join(box.dir, 'huge.yaml');
    writeFileSync(huge, `# ${'x'.repeat(2 * 1024 * 1024)}\n`);
    await refused(box, ['--config', huge, '--file', data], 2, /huge\.yaml is 2\.0 MiB: a config file may be at most 1 MiB/);
    const found = join(box.home, 'conf', 'batt.config.yaml');
    const kept = readFileSync(found);
    writeFileSync(found, `${kept}# ${'x'.repeat(2 * 1024 * 1024)}\n`);
    try {
      await refused(box, ['--file', data], 2, /batt\.config\.yaml is 2\.0 MiB/);
    } finally {
      writeFileSync(found, kept);
    }
  });

  it('a config that is not a regular file (a FIFO nobody writes to) is refused, not waited on', async () => {
    const fifo = join(box.dir, 'fifo.yaml');
    await execa('mkfifo', [fifo]);
    await refused(box, ['--config', fifo, '--file', data], 2, /fifo\.yaml is not a regular file/);
  });

  it('a value too long to repeat is cut short in the message', async () => {
    const conf = join(box.dir, 'long.json');
    writeFileSync(conf, JSON.stringify({ compression: 'z'.repeat(100_000) }));
    const r = await refused(box, ['--config', conf, '--file', data], 2, /"compression" must be one of/);
    assert.ok(r.stderr.length < 2000, `stderr is ${r.stderr.length} characters`);
  });
});

describe('a flag given twice where one value is expected', () => {
  const box = sandboxFor('all');
  let data: string;
  before(async () => {
    data = await firstBackup(box, { x: 'x' });
  });

  const cases: [string, string[], RegExp][] = [
    ['--path', ['--path', 'a', '--path', 'b'], /--path is given 2 times \("a", "b"\): give it once/],
    ['--path and its alias -p', ['-p', 'a', '--destination', 'b'], /--path is given 2 times/],
    ['--compression', ['--compression', 'zstd', '--compression', 'gzip'], /--compression is given 2 times \("zstd", "gzip"\)/],
    ['--compression-level', ['--compression-level', '3', '--compression-level', '4'], /--compression-level is given 2 times/],
    ['--config', ['--config', 'x.yaml', '--config', 'y.yaml'], /--config is given 2 times/],
    ['-j', ['-j', '1', '-j', '2'], /--concurrency is given 2 times/],
  ];
  for (const [name, flags, message] of cases) {
    it(`${name}: refused with exit 2, nothing backed up`, async () => {
      const before = (await box.batt(['runs', '--json'])).stdout;
      await refused(box, ['--file', data, ...flags], 2, message);
      assert.equal((await box.batt(['runs', '--json'])).stdout, before, 'no run recorded');
    });
  }

  it('in other commands too: runs --last, show, restore --to, verify --since', async () => {
    await refused(box, ['runs', '--last', '1', '--last', '2'], 2, /--last is given 2 times/);
    await refused(box, ['runs', '--status', 'ok', '--status', 'failed'], 2, /--status is given 2 times/);
    await refused(box, ['restore', 'latest', '--to', join(box.dir, 'a'), '--to', join(box.dir, 'b')], 2, /--to is given 2 times/);
    await refused(box, ['verify', '--since', '1d', '--since', '2d'], 2, /--since is given 2 times/);
    assert.ok(!existsSync(join(box.dir, 'a')) && !existsSync(join(box.dir, 'b')));
  });

  it('--home twice is refused before either home is made', async () => {
    const a = join(box.dir, 'home-a');
    const b = join(box.dir, 'home-b');
    await refused(box, ['--home', a, '--home', b, 'list'], 2, /--home is given/);
    assert.ok(!existsSync(a) && !existsSync(b), 'no home created');
  });

  it('a repeatable flag stays repeatable: --file twice backs up both', async () => {
    const other = box.folder('other', { y: 'y' });
    const r = await box.batt(['--file', data, '--file', other, '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(json(r).items.length, 2);
  });
});

describe('environment values', () => {
  const { box, data } = dataFor({ x: 'x' });

  it('a wrong BATT_* value names the variable, and is shown escaped and cut short', async () => {
    await refused(box, ['--file', data], 2, /BATT_CONCURRENCY.* must be a whole number of at least 1, got "abc"/, { env: { BATT_CONCURRENCY: 'abc' } });
    await refused(box, ['--file', data], 2, /BATT_COMPRESSION_LEVEL/, { env: { BATT_COMPRESSION_LEVEL: '1e999' } });
    const r = await refused(box, ['--file', data], 2, /BATT_COMPRESSION/, { env: { BATT_COMPRESSION: `zstd\n\x1b[2Jbatt: run 99 ok ${'z'.repeat(50_000)}` } });
    assert.doesNotMatch(r.stderr, /\x1b/);
    assert.doesNotMatch(r.stderr, /^batt: run 99 ok/m);
    assert.ok(r.stderr.length < 2000, `stderr is ${r.stderr.length} characters`);
  });

  it('BATT_HOME naming a file, or a path through one, is a usage error', async () => {
    const file = join(box.dir, 'a-file');
    writeFileSync(file, 'x');
    for (const home of [file, join(file, 'home')]) {
      const r = await execa(process.execPath, [battBin, 'list'], { env: box.env({ BATT_HOME: home }), extendEnv: false, reject: false, timeout: 15_000 });
      assert.equal(r.exitCode, 2, r.stderr);
      assert.match(r.stderr, /^batt: the batt home .*a-file.* is not a folder/m);
      assert.match(r.stderr, /hint: point --home or BATT_HOME at a folder/);
    }
  });
});

describe("a catalog.db that is not batt's is refused, never migrated", () => {
  const box = sandboxFor('all');
  let data: string;
  let catalog: string;
  before(async () => {
    data = box.folder('data', { x: 'x' });
    assert.equal((await box.batt(['list'])).exitCode, 0, 'the home is set up');
    catalog = join(box.home, 'catalog.db');
  });

  const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
  const catalogFiles = (): string[] =>
    readdirSync(box.home)
      .filter((n) => n.startsWith('catalog.db'))
      .sort();

  it("another application's SQLite database", async () => {
    await execa('sqlite3', [catalog, "create table notes (id integer primary key, body text); insert into notes (body) values ('mine');"]);
    const before = sha(catalog);
    for (const args of [['runs'], ['--file', data], ['show', 'latest'], ['catalog', 'check']]) {
      const r = await refused(box, args, 1, new RegExp(`${catalog.replace(/[/.]/g, '\\$&')} is not a batt catalog: a SQLite database of another application \\(tables: notes\\)`));
      assert.match(r.stderr, /hint: batt leaves it alone: move it away .* or use another --home/);
    }
    assert.equal(sha(catalog), before, 'the file is unchanged');
    assert.deepEqual(catalogFiles(), ['catalog.db'], 'no -wal or -shm made beside it');
    assert.equal((await execa('sqlite3', [catalog, 'select name from sqlite_master'])).stdout, 'notes');
    assert.ok(!existsSync(box.out) || readdirSync(box.out).length === 0, 'nothing backed up');
  });

  it('a file that is not SQLite at all', async () => {
    writeFileSync(catalog, 'these are my notes, not a database\n'.repeat(200));
    const before = sha(catalog);
    const r = await refused(box, ['runs'], 1, /catalog\.db is not a batt catalog: not a SQLite database/);
    assert.match(r.stderr, /hint: .*move it away.*batt catalog rebuild/);
    await refused(box, ['--file', data], 1, /not a SQLite database/);
    assert.equal(sha(catalog), before);
  });

  it('an empty file', async () => {
    writeFileSync(catalog, '');
    const r = await refused(box, ['runs'], 1, /catalog\.db is empty \(0 bytes\): not a batt catalog/);
    assert.match(r.stderr, /batt catalog rebuild/);
    await refused(box, ['--file', data], 1, /is empty/);
    assert.equal(readFileSync(catalog).length, 0);
  });

  it('a folder where the catalog should be', async () => {
    for (const s of ['', '-wal', '-shm']) rmSync(catalog + s, { force: true });
    mkdirSync(catalog);
    try {
      await refused(box, ['runs'], 1, /catalog\.db is not a batt catalog: not a regular file/);
    } finally {
      rmSync(catalog, { recursive: true });
    }
  });

  it("a missing catalog is still made, and batt's own is opened as before", async () => {
    const r = await box.batt(['--file', data, '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal((await box.batt(['runs', '--json'])).exitCode, 0);
    assert.equal(json(await box.batt(['runs', '--json'])).length, 1);
  });
});

describe('manifests that are not what they claim, for `batt catalog rebuild DIR`', () => {
  const box = sandboxFor('all');
  before(() => firstBackup(box, { x: 'x' }));

  it('each bad manifest is left out with its reason; the good runs come back; nothing outside the folder is taken in', async () => {
    const bad = join(box.dir, 'out', 'bad');
    mkdirSync(bad, { recursive: true });
    const run = { id: 7, startedAt: '2026-01-01T00:00:00.000Z', host: 'x', user: 'root', destination: '/x', battVersion: '0' };
    const item = { service: 'file', target: '/etc', bytes: 5, sha256: 'a'.repeat(64), compression: null, startedAt: run.startedAt, finishedAt: run.startedAt };
    const manifests: Record<string, string> = {
      'batt-run-1.json': 'this is not JSON {',
      'batt-run-2.json': '[1, 2, 3]',
      'batt-run-3.json': 'null',
      'batt-run-4.json': JSON.stringify({ batt: { manifestVersion: 1 }, run: { ...run, id: 4, startedAt: { evil: true } }, items: [], failed: [] }),
      'batt-run-5.json': JSON.stringify({ batt: { manifestVersion: 1 }, run: { ...run, id: 5 }, items: [{ ...item, name: '../../../../../../etc/hostname' }], failed: [] }),
      'batt-run-6.json': JSON.stringify({ batt: { manifestVersion: 1 }, run: { ...run, id: 6 }, items: [{ ...item, name: 'x', bytes: { n: 1 } }], failed: [] }),
      'batt-run-8.json': JSON.stringify({ batt: { manifestVersion: 1 }, run: { ...run, id: 8 }, items: [{ ...item, name: '/etc/hostname' }], failed: [] }),
      'batt-run-9.json': `{"batt": {"manifestVersion": 1}, "items": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
    };
    for (const [name, text] of Object.entries(manifests)) writeFileSync(join(bad, name), text);
    const started = Date.now();
    const r = await box.batt(['catalog', 'rebuild', '--any-host', '--quick', join(box.dir, 'out')], { timeout: 30_000 });
    assert.ok(Date.now() - started < 15_000);
    assert.equal(r.exitCode, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /internal error/);
    for (const name of Object.keys(manifests)) assert.match(r.stdout, new RegExp(`skipped  ${join(bad, name).replace(/[/.]/g, '\\$&')}\\n`), `${name} left out:\n${r.stdout}`);
    assert.match(r.stdout, /batt-run-1\.json\n {4}unreadable manifest: not JSON/);
    assert.match(r.stdout, /batt-run-5\.json\n {4}.*"\.\.\/\.\.\/.*hostname" is not a file name inside the manifest's folder/);
    assert.match(r.stdout, /rebuilt .*: 1 runs, 1 backups/);
    const files = json(await box.batt(['show', 'latest', '--json'])).items.map((i: { file: string }) => i.file);
    assert.ok(
      files.every((f: string) => f.startsWith(join(box.dir, 'out') + '/')),
      files.join(', '),
    );
  });

  it('a manifest over 16 MiB is left out without being read', async () => {
    const big = join(box.dir, 'big');
    mkdirSync(big);
    writeFileSync(join(big, 'batt-run-3.json'), `{"pad": "${'x'.repeat(17 * 1024 * 1024)}"}`);
    const r = await box.batt(['catalog', 'rebuild', '--any-host', big]);
    assert.equal(r.exitCode, 1, r.stderr);
    assert.match(r.stdout, /batt-run-3\.json\n {4}unreadable manifest: 17\.0 MiB, more than the 16 MiB a manifest may be/);
  });
});
