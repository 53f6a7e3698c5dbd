// `batt plugin test`: the conformance suite as a command, against a user's own server (a private
// MariaDB, a private Redis) and their own drop-in script pairs, good and broken. The user's
// home must come out of it as it went in: no run in its catalog, no backup, no hook, no upload.
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { json, sandboxFor, type Sandbox } from '../lib/batt.js';
import { forSuite, startMariaDb, startPostgres, startRedis, type Redis } from '../lib/servers.js';

const steps = (report: any): string[] => report.steps.map((s: any) => `${s.step}:${s.status}`);

/** A scratch TMPDIR for the test's batt, so that what plugin test leaves there can be seen. */
function tmpOf(box: Sandbox): { TMPDIR: string } {
  const dir = join(box.dir, 'tmp');
  mkdirSync(dir, { recursive: true });
  return { TMPDIR: dir };
}

/** A drop-in pair: backup copies its arguments' files, restore copies them into BATT_INTO (refusing what exists unless told). */
function scriptPair(box: Sandbox, name: string, restore: 'careful' | 'careless' | 'none', backup = 'copy'): string {
  const dir = join(box.dir, 'my-scripts');
  mkdirSync(dir, { recursive: true });
  const write = (file: string, body: string): void => {
    writeFileSync(join(dir, file), body);
    chmodSync(join(dir, file), 0o755);
  };
  write(
    `backup-${name}`,
    backup === 'copy' ? `#!/bin/sh\nset -e\nmkdir -p "$BATT_DEST/${name}"\nfor f in "$@"; do cp "$f" "$BATT_DEST/${name}/"; done\n` : '#!/bin/sh\necho "nothing to do" >&2\n',
  );
  const guard = restore === 'careful' ? `[ -e "$BATT_INTO" ] && [ "$BATT_FORCE" != 1 ] && { echo "$BATT_INTO exists (use --force)" >&2; exit 1; }\n` : '';
  if (restore !== 'none')
    write(`restore-${name}`, `#!/bin/sh\nset -e\n${guard}mkdir -p "$BATT_INTO"\ncp -L "$BATT_SOURCE"/* "$BATT_INTO/"\necho changed >> "$BATT_INTO/touched"\n`);
  return join(dir, `backup-${name}`);
}

describe('batt plugin test: a built-in against the user’s own MariaDB', () => {
  const box = sandboxFor('all');
  const my = forSuite(() => startMariaDb({ user: ['u', 'u-secret-pw'] }));
  before(async () => {
    await my.sql('CREATE DATABASE shop');
    await my.sql('CREATE TABLE t (id INT PRIMARY KEY, s TEXT); INSERT INTO t SELECT seq, CONCAT("row ", seq) FROM seq_1_to_500', 'shop');
    // The user's own configuration: the connection, and things a test must not set off: a storage that
    // does not answer, a hook that leaves a mark.
    const key = join(box.dir, 's3.key');
    writeFileSync(key, 'not-a-real-key', { mode: 0o600 });
    appendFileSync(
      join(box.home, 'conf', 'batt.config.yaml'),
      [
        `mysql: { host: 127.0.0.1, port: ${my.port}, user: u }`,
        'storage:',
        `  - { name: offsite, type: s3, bucket: nowhere, endpoint: "http://127.0.0.1:1", force_path_style: true, access_key_id: k, secret_access_key_file: ${JSON.stringify(key)} }`,
        `hooks: { after: [[touch, ${JSON.stringify(join(box.dir, 'hook-ran'))}]] }`,
        '',
      ].join('\n'),
    );
  });

  it('passes every step, drops what it restored, and leaves the user’s catalog, backups, storages and hooks alone', async () => {
    const databases = await my.sql('SHOW DATABASES');
    const env = { BATT_MYSQL_PASSWORD: 'u-secret-pw', ...tmpOf(box) };
    const r = await box.batt(['plugin', 'test', 'mysql', '--target', 'shop', '--json'], { env });
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    const report = json(r);
    assert.deepEqual(steps(report), ['backup:ok', 'verify:ok', 'drill:ok', 'restore:ok', 'compare:ok', 'refuse:ok', 'damaged:ok']);
    assert.match(report.steps.find((s: any) => s.step === 'compare').detail, /500/);
    assert.doesNotMatch(r.stdout + r.stderr, /u-secret-pw/);
    assert.equal(await my.sql('SHOW DATABASES'), databases, 'the restored copies are dropped again');
    assert.deepEqual(json(await box.batt(['runs', '--json'])), []);
    assert.equal(existsSync(box.out), false, 'no backup in the user’s destination');
    assert.equal(existsSync(join(box.dir, 'hook-ran')), false, 'the user’s hooks do not run');
    assert.deepEqual(readdirSync(env.TMPDIR), [], 'the scratch folder is removed');
  });

  it('prints one line a step; a wrong password fails the backup step with the server’s reason, exit 1', async () => {
    const r = await box.batt(['plugin', 'test', 'mysql', '--target', 'shop'], { env: { BATT_MYSQL_PASSWORD: 'wrong', ...tmpOf(box) } });
    assert.equal(r.exitCode, 1, r.stderr + r.stdout);
    assert.match(r.stdout, /^FAILED\s+backup\s+shop: .*Access denied/m);
    assert.match(r.stdout, /1 of 1 steps failed/);
    assert.deepEqual(readdirSync(join(box.dir, 'tmp')), []);
  });
});

describe('batt plugin test: a built-in against the user’s own PostgreSQL, all its databases and its roles', () => {
  const box = sandboxFor('all');
  const pg = forSuite(startPostgres);
  before(async () => {
    await pg.sql('CREATE DATABASE app');
    await pg.sql("CREATE TABLE t (id int PRIMARY KEY, s text); INSERT INTO t SELECT i, 'row ' || i FROM generate_series(1, 700) i", 'app');
    appendFileSync(join(box.home, 'conf', 'batt.config.yaml'), `postgresql: { host: 127.0.0.1, port: ${pg.port}, user: postgres }\n`);
  });

  it('restores a database (never the roles) under a new name, compares, and drops it again', async () => {
    const databases = await pg.sql("SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database");
    const r = await box.batt(['plugin', 'test', 'postgresql', '--json'], { env: { BATT_POSTGRESQL_PASSWORD: pg.password, ...tmpOf(box) } });
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    const report = json(r);
    assert.deepEqual(steps(report), ['backup:ok', 'verify:ok', 'drill:ok', 'restore:ok', 'compare:ok', 'refuse:ok', 'damaged:ok']);
    assert.match(report.steps[3].detail, /^app into batt_plugin_test_/);
    assert.match(report.steps[4].detail, /700/);
    assert.equal(await pg.sql("SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database"), databases);
  });
});

describe('batt plugin test: a built-in Redis needs a server to restore into', () => {
  const box = sandboxFor('all');
  let src: Redis;
  let spare: Redis;
  before(async () => {
    [src, spare] = await Promise.all([startRedis(), startRedis()]);
    await src.cli('SET', 'k', 'v');
    await src.cli('HSET', 'h', 'a', '1');
    appendFileSync(join(box.home, 'conf', 'batt.config.yaml'), `redis: { host: 127.0.0.1, port: ${src.port} }\n`);
  });
  after(async () => Promise.all([src?.stop(), spare?.stop()]));

  it('without --into: the restore steps are skipped with what to give; with an empty server: every step passes', async () => {
    const without = json(await box.batt(['plugin', 'test', 'redis', '--json'], { env: tmpOf(box) }));
    assert.deepEqual(steps(without), ['backup:ok', 'verify:ok', 'drill:ok', 'restore:skipped', 'compare:skipped', 'refuse:skipped', 'damaged:skipped']);
    assert.match(without.steps[3].detail, /--into .*host:port/);
    const r = await box.batt(['plugin', 'test', 'redis', '--into', `127.0.0.1:${spare.port}`, '--json'], { env: tmpOf(box) });
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    assert.deepEqual(steps(json(r)), ['backup:ok', 'verify:ok', 'drill:ok', 'restore:ok', 'compare:ok', 'refuse:ok', 'damaged:ok']);
    assert.equal(await spare.cli('GET', 'k'), 'v');
    assert.equal(await src.cli('DBSIZE'), '2', 'the source is as it was');
  });
});

describe('batt plugin test: drop-in script pairs', () => {
  const box = sandboxFor('all');

  it('a good pair, given by path, passes; the steps a drop-in cannot have are skipped with why', async () => {
    const data = box.folder('data', { 'a.txt': 'alpha\n', 'b.txt': 'beta\n' });
    const script = scriptPair(box, 'notes', 'careful');
    const r = await box.batt(['plugin', 'test', script, '--target', join(data, 'a.txt'), '--target', join(data, 'b.txt')], { env: tmpOf(box) });
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^ok\s+backup\s+run 1: 2 items,/m);
    assert.match(r.stdout, /^ok\s+restore\s+the run's 2 files into /m);
    assert.match(r.stdout, /^skipped\s+drill\s+drop-in scripts have no restore drill/m);
    assert.match(r.stdout, /^skipped\s+compare\s+a drop-in script records no facts/m);
    assert.match(r.stdout, /^ok\s+refuse\s+refused \(exit 1\) and nothing changed$/m);
    assert.match(r.stdout, /^ok\s+damaged\s+a flipped byte is refused/m);
    assert.match(r.stdout, /passed: 5 steps ok, 2 skipped/);
    assert.deepEqual(readdirSync(join(box.dir, 'tmp')), []);
    assert.deepEqual(json(await box.batt(['runs', '--json'])), []);
  });

  it('a restore script that overwrites without BATT_FORCE fails the refuse step, naming the rule', async () => {
    const data = box.folder('data2', { 'c.txt': 'gamma\n' });
    const r = await box.batt(['plugin', 'test', scriptPair(box, 'sloppy', 'careless'), '--target', join(data, 'c.txt'), '--json'], { env: tmpOf(box) });
    assert.equal(r.exitCode, 1, r.stderr + r.stdout);
    const report = json(r);
    assert.deepEqual(steps(report), ['backup:ok', 'verify:ok', 'drill:skipped', 'restore:ok', 'compare:skipped', 'refuse:failed', 'damaged:ok']);
    assert.match(report.steps[5].detail, /went ahead: restore-sloppy must refuse existing data unless BATT_FORCE=1/);
  });

  it('a backup script that exits 0 but writes nothing fails the backup step and stops there', async () => {
    const r = await box.batt(['plugin', 'test', scriptPair(box, 'empty', 'careful', 'nothing'), '--json'], { env: tmpOf(box) });
    assert.equal(r.exitCode, 1, r.stderr + r.stdout);
    const report = json(r);
    assert.deepEqual(steps(report), ['backup:failed']);
    assert.match(report.steps[0].detail, /wrote no file/);
  });

  it('a drop-in of the home without a restore script fails the restore step, naming the file to add', async () => {
    const data = box.folder('data3', { 'd.txt': 'delta\n' });
    const script = scriptPair(box, 'half', 'none');
    writeFileSync(join(box.home, 'scripts-available', 'backup-half'), `#!/bin/sh\nexec ${JSON.stringify(script)} "$@"\n`, { mode: 0o755 });
    const r = await box.batt(['plugin', 'test', 'half', '--target', join(data, 'd.txt'), '--json'], { env: tmpOf(box) });
    assert.equal(r.exitCode, 1, r.stderr + r.stdout);
    const report = json(r);
    assert.deepEqual(steps(report), ['backup:ok', 'verify:ok', 'drill:skipped', 'restore:failed']);
    assert.match(report.steps[3].detail, /restore-half/);
  });

  it('an unknown service or a script not named backup-<name> is a usage error, exit 2', async () => {
    const unknown = await box.batt(['plugin', 'test', 'mysqll']);
    assert.equal(unknown.exitCode, 2);
    assert.match(unknown.stderr, /unknown service "mysqll": did you mean "mysql"\?/);
    writeFileSync(join(box.dir, 'dump.sh'), '#!/bin/sh\n', { mode: 0o755 });
    const badName = await box.batt(['plugin', 'test', join(box.dir, 'dump.sh')]);
    assert.equal(badName.exitCode, 2);
    assert.match(badName.stderr, /must be backup-<name>/);
  });
});
