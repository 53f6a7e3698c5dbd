import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { json, sandbox, type Sandbox } from '../lib/batt.js';

// No mongod can be installed on these machines (neither Debian nor npm ships one), so this
// suite runs batt against a stand-in `mongodump` written here. It checks what batt controls:
// the argv, the 0600 --config file with the password, the stream, and the failure paths.
// It is not a test against a live MongoDB server.
describe('mongodb service against a stand-in mongodump', () => {
  let box: Sandbox;
  let bin: string;
  let env: Record<string, string>;
  const record = (): string => join(box.dir, 'calls');
  before(() => {
    box = sandbox();
    bin = join(box.dir, 'bin');
    mkdirSync(bin);
    mkdirSync(record());
    for (const tool of ['zstd', 'setpriv', 'cat', 'stat', 'printf']) symlinkSync(`/usr/bin/${tool}`, join(bin, tool));
    writeFileSync(join(bin, 'mongodump'), `#!/bin/sh
if [ "$1" = "--version" ]; then echo "mongodump version: 100.9.4-standin"; exit 0; fi
n=$(date +%s%N)
printf '%s\\n' "$@" > ${record()}/$n.argv
for a in "$@"; do case "$a" in --config=*) f="\${a#--config=}"; stat -c %a "$f" > ${record()}/$n.mode; cat "$f" > ${record()}/$n.config; echo "$f" > ${record()}/$n.path;; esac; done
[ -n "$FAIL" ] && { echo "Failed: connection() error occurred during connection handshake: auth error: sasl conversation error" >&2; exit 1; }
printf 'ARCHIVE-BYTES for %s\\n' "$*"
echo "done dumping app.users (3 documents)" >&2
`, { mode: 0o755 });
    symlinkSync('/usr/bin/date', join(bin, 'date'));
    env = { PATH: bin, BATT_MONGODB_HOST: 'db.example', BATT_MONGODB_PORT: '27018', BATT_MONGODB_USER: 'backup', BATT_MONGODB_PASSWORD: 'm0ngo "pw"' };
  });
  after(() => box.cleanup());

  const calls = (): { argv: string[]; mode: string; config: string; path: string }[] => {
    return readdirSync(record()).filter((n) => n.endsWith('.argv')).sort().map((n) => {
      const base = join(record(), n.replace(/\.argv$/, ''));
      return { argv: readFileSync(`${base}.argv`, 'utf8').trim().split('\n'), mode: readFileSync(`${base}.mode`, 'utf8').trim(), config: readFileSync(`${base}.config`, 'utf8'), path: readFileSync(`${base}.path`, 'utf8').trim() };
    });
  };

  it('dumps each database as an archive, with the password only in a 0600 config file', async () => {
    const r = await box.batt(['--mongodb-db', 'app', '--mongodb-db=--out=/tmp/x', '--path', join(box.out, 'm'), '--json'], { env });
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    const items = json(r).items;
    assert.deepEqual(items.map((i: any) => i.target), ['app', '--out=/tmp/x']);
    const content = (await execa('/usr/bin/zstd', ['-dc', items[0].file])).stdout;
    assert.match(content, /^ARCHIVE-BYTES for /);
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
    assert.deepEqual(shown.items[0].facts.rowCounts, { 'app.users': 3 }, 'documents per collection, from mongodump\'s log');
  });

  it('dumps a replica set whole, with --oplog', async () => {
    const r = await box.batt(['mongodb', '--path', join(box.out, 'rs'), '--json'], { env: { ...env, BATT_MONGODB_REPLICA_SET: 'true' } });
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    assert.deepEqual(json(r).items.map((i: any) => i.target), ['@all']);
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

  it('a missing mongodump says what to install', async () => {
    const empty = join(box.dir, 'empty-bin');
    mkdirSync(empty);
    for (const tool of ['zstd', 'setpriv']) symlinkSync(`/usr/bin/${tool}`, join(empty, tool));
    const r = await box.batt(['--mongodb-db', 'app', '--path', join(box.out, 'missing'), '--json'], { env: { ...env, PATH: empty } });
    assert.equal(r.exitCode, 1);
    assert.match(json(r).items[0].error, /mongodump is not installed.*apt-get install mongodb-database-tools/);
  });
});
