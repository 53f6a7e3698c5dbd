import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import { ArchiveCheck } from '@batt/mongodb';
import { json, sandboxFor, standIns } from '../lib/batt.js';
import { bson, mongoArchive } from '../lib/mongo-archive.js';
import { s3StorageYaml, startS3 } from '../lib/s3.js';

// No mongod can be installed on these machines (neither Debian nor npm ships one), so this
// suite runs batt against a stand-in `mongodump` written here. It checks what batt controls:
// the argv, the 0600 --config file with the password, the stream, and the failure paths.
// It is not a test against a live MongoDB server.
describe('mongodb service against a stand-in mongodump', () => {
  const box = sandboxFor('all');
  let bin: string;
  let env: Record<string, string>;
  const record = (): string => join(box.dir, 'calls');
  before(() => {
    bin = join(box.dir, 'bin');
    mkdirSync(bin);
    mkdirSync(record());
    writeFileSync(
      join(bin, 'mongodump'),
      `#!/bin/sh
if [ "$1" = "--version" ]; then echo "mongodump version: 100.9.4-standin"; exit 0; fi
n=$(date +%s%N)
printf '%s\\n' "$@" > ${record()}/$n.argv
for a in "$@"; do case "$a" in --config=*) f="\${a#--config=}"; stat -c %a "$f" > ${record()}/$n.mode; cat "$f" > ${record()}/$n.config; echo "$f" > ${record()}/$n.path;; esac; done
[ -n "$FAIL" ] && { echo "Failed: connection() error occurred during connection handshake: auth error: sasl conversation error" >&2; exit 1; }
db=app; for a in "$@"; do case "$a" in --db=*) db="\${a#--db=}";; esac; done
${process.execPath} ${join(import.meta.dirname, '..', 'lib', 'mongo-archive.js')} "$db" \${CUT:+--cut "$CUT"}
echo "done dumping $db.users (3 documents)" >&2
`,
      { mode: 0o755 },
    );
    // No mongodump exists here: the stand-in first on PATH is the only one.
    env = { PATH: `${bin}:${process.env.PATH}`, BATT_MONGODB_HOST: 'db.example', BATT_MONGODB_PORT: '27018', BATT_MONGODB_USER: 'backup', BATT_MONGODB_PASSWORD: 'm0ngo "pw"' };
  });

  const calls = (): { argv: string[]; mode: string; config: string; path: string }[] => {
    return readdirSync(record())
      .filter((n) => n.endsWith('.argv'))
      .sort()
      .map((n) => {
        const base = join(record(), n.replace(/\.argv$/, ''));
        return {
          argv: readFileSync(`${base}.argv`, 'utf8').trim().split('\n'),
          mode: readFileSync(`${base}.mode`, 'utf8').trim(),
          config: readFileSync(`${base}.config`, 'utf8'),
          path: readFileSync(`${base}.path`, 'utf8').trim(),
        };
      });
  };

  it('dumps each database as an archive, with the password only in a 0600 config file', async () => {
    const r = await box.batt(['--mongodb-db', 'app', '--mongodb-db=--out=/tmp/x', '--path', join(box.out, 'm'), '--json'], { env });
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    const items = json(r).items;
    assert.deepEqual(
      items.map((i: any) => i.target),
      ['app', '--out=/tmp/x'],
    );
    const content = (await execa('zstd', ['-dc', items[0].file], { encoding: 'buffer', stripFinalNewline: false })).stdout;
    assert.deepEqual(Buffer.from(content), mongoArchive('app', { users: 3, empty: 0 }), 'the archive, byte for byte');
    const seen = calls();
    assert.equal(seen.length, 2);
    for (const call of seen) {
      assert.equal(call.mode, '600');
      assert.equal(call.config, 'password: "m0ngo \\"pw\\""\n');
      assert.ok(!call.argv.some((a) => a.includes('m0ngo')), 'no password in argv');
      assert.ok(call.argv.includes('--archive') && call.argv.includes('--host=db.example') && call.argv.includes('--port=27018') && call.argv.includes('--username=backup'));
      assert.ok(!existsSync(call.path), 'the config file is removed afterwards');
    }
    // the two dumps run in parallel, so either may have started first
    const dbs = seen.map((call) => call.argv.filter((a) => a.startsWith('--db='))).sort();
    assert.deepEqual(dbs, [['--db=--out=/tmp/x'], ['--db=app']], 'a hostile name stays the value of --db=');
    const shown = json(await box.batt(['show', String(json(r).id), '--json']));
    assert.equal(shown.items[0].toolVersion, 'mongodump version: 100.9.4-standin');
    assert.deepEqual(shown.items[0].facts.rowCounts, { 'app.users': 3, 'app.empty': 0 }, 'documents per collection, counted in the archive');
    const verified = await box.batt(['verify', String(json(r).id), '--json']);
    assert.equal(verified.exitCode, 0, verified.stdout + verified.stderr);
  });

  it('is copied to S3; with the local file gone, verify reads the copy back and checks the archive', async () => {
    const s3 = await startS3();
    try {
      appendFileSync(join(box.home, 'conf', 'batt.config.yaml'), ['storage:', ...s3StorageYaml(s3, box.dir, 'offsite'), ''].join('\n'));
      const r = await box.batt(['--mongodb-db', 'app', '--path', join(box.out, 's3'), '--json'], { env });
      assert.equal(r.exitCode, 0, r.stderr + r.stdout);
      const item = json(await box.batt(['show', String(json(r).id), '--json'])).items[0];
      assert.deepEqual(
        item.copies.map((c: { storage: string; sha256: string }) => [c.storage, c.sha256]),
        [['offsite', item.sha256]],
      );
      rmSync(item.file);
      const v = await box.batt(['verify', String(json(r).id), '--service', 'mongodb', '--json'], { env });
      assert.equal(v.exitCode, 0, v.stderr + v.stdout);
      const checks: { name: string; ok: boolean; detail: string }[] = json(v)[0].checks;
      assert.ok(
        checks.every((c) => c.ok),
        JSON.stringify(checks),
      );
      assert.ok(
        checks.some((c) => /collection|document/i.test(c.detail)),
        `the archive was read: ${JSON.stringify(checks)}`,
      );
    } finally {
      const conf = join(box.home, 'conf', 'batt.config.yaml');
      writeFileSync(conf, readFileSync(conf, 'utf8').replace(/storage:[\s\S]*$/, ''));
      await s3.stop();
    }
  });

  it('dumps a replica set whole, with --oplog', async () => {
    const r = await box.batt(['mongodb', '--path', join(box.out, 'rs'), '--json'], { env: { ...env, BATT_MONGODB_REPLICA_SET: 'true' } });
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    assert.deepEqual(
      json(r).items.map((i: any) => i.target),
      ['@all'],
    );
    const last = calls().at(-1)!;
    assert.ok(last.argv.includes('--oplog') && !last.argv.some((a) => a.startsWith('--db=')));
  });

  it('a failing mongodump fails the item with its message and leaves no artifact', async () => {
    const dest = join(box.out, 'fail');
    const r = await box.batt(['--mongodb-db', 'app', '--path', dest, '--json'], { env: { ...env, FAIL: '1' } });
    assert.equal(r.exitCode, 1);
    assert.match(json(r).items[0].error, /authentication failed.*check mongodb\.user and mongodb\.password/);
    assert.ok(!existsSync(join(dest, 'mongodb', 'app.archive.zst')));
  });

  it('an archive cut short by a mongodump that exits 0 is a failure, and no artifact is left', async () => {
    const dest = join(box.out, 'cut');
    const r = await box.batt(['--mongodb-db', 'app', '--path', dest, '--json'], { env: { ...env, CUT: '5' } });
    assert.equal(r.exitCode, 1);
    assert.match(json(r).items[0].error, /mongodump exited 0 but its archive of "app" is not whole \(it ends inside .*\): it is truncated/);
    assert.deepEqual(existsSync(join(dest, 'mongodb')) ? readdirSync(join(dest, 'mongodb')).filter((n) => n.includes('app')) : [], []);
  });

  it('a missing mongodump says what to install', async () => {
    const r = await box.batt(['--mongodb-db', 'app', '--path', join(box.out, 'missing'), '--json'], {
      env: { ...env, PATH: standIns(join(box.dir, 'no-mongodump'), { mongodump: '' }, ['zstd', 'setpriv']) },
    });
    assert.equal(r.exitCode, 1);
    assert.match(json(r).items[0].error, /mongodump is not installed.*apt-get install mongodb-database-tools/);
  });
});

describe('mongodump archive check', () => {
  const check = async (bytes: Buffer, chunk = 4096): Promise<ArchiveCheck> => {
    const pieces = [];
    for (let i = 0; i < bytes.length; i += chunk) pieces.push(bytes.subarray(i, i + chunk));
    const c = new ArchiveCheck();
    const out: Buffer[] = [];
    await pipeline(Readable.from(pieces), c, new Writable({ write: (b, _e, cb) => (out.push(b), cb()) }));
    assert.deepEqual(Buffer.concat(out), bytes, 'bytes pass unchanged');
    return c;
  };
  const whole = mongoArchive('shop', { users: 5, orders: 2, empty: 0 });

  it('takes a whole archive, however it is chunked, and counts documents per collection', async () => {
    for (const size of [1, 3, 17, 4096]) {
      const c = await check(whole, size);
      assert.equal(c.problem, undefined, `chunks of ${size}`);
      assert.deepEqual(c.documents, { 'shop.users': 5, 'shop.orders': 2, 'shop.empty': 0 });
    }
  });

  it('finds every cut: no shorter prefix of an archive passes', async () => {
    for (let n = 0; n < whole.length; n++) {
      const c = await check(whole.subarray(0, n), 64);
      assert.ok(c.problem, `a prefix of ${n} of ${whole.length} bytes passed`);
    }
  });

  it('takes views, whether they send an empty segment and an EOF header or nothing at all', async () => {
    const c = await check(mongoArchive('shop', { users: 2 }, ['active_users']));
    assert.equal(c.problem, undefined);
    assert.deepEqual(c.documents, { 'shop.users': 2, 'shop.active_users': 0 });
    const silent = await check(mongoArchive('shop', { users: 2 }, ['active_users'], true));
    assert.equal(silent.problem, undefined);
    assert.deepEqual(silent.documents, { 'shop.users': 2 });
  });

  it('names what is wrong: not an archive, a namespace never ended', async () => {
    assert.match((await check(Buffer.from('PGDMP not a mongodump archive'))).problem!, /magic number/);
    // Well formed up to a terminator, but orders and empty never send their EOF headers.
    const eof = (name: string): number =>
      bson([
        ['db', 'shop'],
        ['collection', name],
        ['EOF', true],
        ['CRC', 12345n],
      ]).length + 4;
    const c = await check(whole.subarray(0, whole.length - eof('orders') - eof('empty')));
    assert.equal(c.problem, 'it ends before the end of shop.orders, shop.empty');
  });
});
