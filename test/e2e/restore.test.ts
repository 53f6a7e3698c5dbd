// batt restore / batt verify beyond the conformance suite: files (and hostile archives), drop-in
// restore scripts, truncated dumps, mirror prod (--replace) on MariaDB and PostgreSQL.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { before, describe, it } from 'node:test';
import { execa } from 'execa';
import { json, logLines, realTool, recordCalls, type Sandbox, sandboxFor, standIns } from '../lib/batt.js';
import { forSuite, startMariaDb, startPostgres } from '../lib/servers.js';

/**
 * Puts `content` (already compressed as the item's artifact is) in place of an item's artifact
 * and makes the catalog and SHA256SUMS agree: what someone who controls the backup storage and
 * the catalog could do. Restore must still refuse what is unsafe or incomplete.
 */
async function forge(box: Sandbox, file: string, content: Buffer): Promise<void> {
  writeFileSync(file, content);
  const sha = createHash('sha256').update(content).digest('hex');
  await execa('sqlite3', [join(box.home, 'catalog.db'), `UPDATE items SET sha256 = '${sha}', bytes = ${content.length} WHERE file = '${file.replace(/'/g, "''")}'`]);
  const sums = join(dirname(file), 'SHA256SUMS');
  writeFileSync(
    sums,
    readFileSync(sums, 'utf8')
      .split('\n')
      .map((l) => (l.endsWith(`  ${basename(file)}`) ? `${sha}  ${basename(file)}` : l))
      .join('\n'),
  );
}

// stripFinalNewline: false, or execa drops a compressed stream's last byte when it happens to be 0x0a
const zstd = async (data: Buffer | string): Promise<Buffer> =>
  Buffer.from((await execa('zstd', ['-q', '-c'], { input: data, encoding: 'buffer', stripFinalNewline: false })).stdout);
const unzstd = async (file: string): Promise<Buffer> => Buffer.from((await execa('zstd', ['-dc', file], { encoding: 'buffer', stripFinalNewline: false })).stdout);

describe('restore: files', () => {
  const box = sandboxFor('all');
  let src: string;
  let runId: number;
  before(async () => {
    src = box.folder('site', { 'index.html': '<h1>hi</h1>\n', 'a b ü.txt': 'odd name\n' });
    mkdirSync(join(src, 'sub'));
    writeFileSync(join(src, 'sub', 'data.bin'), Buffer.alloc(300_000, 7));
    symlinkSync('index.html', join(src, 'link'));
    writeFileSync(join(src, 'tool'), '#!/bin/sh\n');
    chmodSync(join(src, 'tool'), 0o4755);
    const r = await box.batt(['--file', src, '--path', join(box.out, 'f'), '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    runId = json(r).id;
  });

  it('restores into --to: same contents and link, setuid dropped, checks reported', async () => {
    const to = join(box.dir, 'restored');
    const logged = logLines(box).length;
    const r = await box.batt(['restore', 'latest', 'file', '--to', to]);
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    // The log hears the restore's events: the item started, then restored.
    assert.deepEqual(logLines(box).slice(logged), [`info [file] ${src}: restoring into folder ${to}`, `info [file] ${src}: restored into folder ${to}`]);
    assert.match(r.stdout, /file hashes: \d+ files match/);
    const back = join(to, src.slice(1));
    assert.equal(readFileSync(join(back, 'index.html'), 'utf8'), '<h1>hi</h1>\n');
    assert.equal(readFileSync(join(back, 'a b ü.txt'), 'utf8'), 'odd name\n');
    assert.deepEqual(readFileSync(join(back, 'sub', 'data.bin')), Buffer.alloc(300_000, 7));
    assert.equal(readlinkSync(join(back, 'link')), 'index.html');
    assert.equal(statSync(join(back, 'tool')).mode & 0o7777, 0o755, 'setuid bit dropped');
    assert.deepEqual(readdirSync(to), [src.split('/')[1]], 'no staging folder left behind');
  });

  it('never writes over existing files without --force', async () => {
    const to = join(box.dir, 'restored-then-changed');
    assert.equal((await box.batt(['restore', String(runId), 'file', '--to', to])).exitCode, 0);
    writeFileSync(join(to, src.slice(1), 'index.html'), 'changed since\n');
    const r = await box.batt(['restore', String(runId), 'file', '--to', to]);
    assert.equal(r.exitCode, 2, r.stderr);
    assert.match(r.stderr, /already exists|needs --force|not empty/);
    assert.equal(readFileSync(join(to, src.slice(1), 'index.html'), 'utf8'), 'changed since\n');
    const forced = await box.batt(['restore', String(runId), 'file', '--to', to, '--force']);
    assert.equal(forced.exitCode, 0, forced.stderr);
    assert.equal(readFileSync(join(to, src.slice(1), 'index.html'), 'utf8'), '<h1>hi</h1>\n');
  });

  it('a run of several folders restores each into one --to, under its own path; only a file that is there already stops it', async () => {
    const second = box.folder('other site', { 'x.txt': 'x\n' });
    const run = json(await box.batt(['--file', src, '--file', second, '--path', join(box.out, 'two'), '--json']));
    assert.equal(run.items.length, 2);
    const to = join(box.dir, 'both');
    mkdirSync(to);
    writeFileSync(join(to, 'unrelated.txt'), 'mine\n'); // not in the backup: no conflict
    const r = await box.batt(['restore', String(run.id), 'file', '--to', to]);
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    assert.equal(readFileSync(join(to, src.slice(1), 'index.html'), 'utf8'), '<h1>hi</h1>\n');
    assert.equal(readFileSync(join(to, second.slice(1), 'x.txt'), 'utf8'), 'x\n');
    assert.equal(readFileSync(join(to, 'unrelated.txt'), 'utf8'), 'mine\n');
    // Again: now every file is there, so both are refused, and nothing changes.
    writeFileSync(join(to, second.slice(1), 'x.txt'), 'changed\n');
    const again = await box.batt(['restore', String(run.id), 'file', '--to', to]);
    assert.equal(again.exitCode, 2, again.stderr + again.stdout);
    assert.match(again.stderr, /already exist/);
    assert.equal(readFileSync(join(to, second.slice(1), 'x.txt'), 'utf8'), 'changed\n');
  });

  it('--dry-run shows the plan and checks the SHA-256, and writes nothing', async () => {
    const to = join(box.dir, 'dry');
    const r = await box.batt(['restore', 'latest', 'file', '--target', './site', '--to', to, '--dry-run']); // relative to the cwd (box.dir)
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /dry run/);
    assert.match(r.stdout, /verified/);
    assert.equal(existsSync(to), false);
  });

  it('a tar cut short between two entries (with a matching hash) fails its archive size check: verify fails it, restore writes nothing', async () => {
    const run = json(await box.batt(['--file', src, '--path', join(box.out, 'cut'), '--json']));
    const file = run.items[0].file as string;
    assert.ok(file.endsWith('.tar.zst'), file);
    const whole = await unzstd(file);
    // GNU tar names the block each member starts at: cut before the last one. What is left is
    // whole entries without the end-of-archive blocks, so only the recorded size can tell.
    const listed = await execa('tar', ['-tR', '-f', '-'], { input: whole });
    const blocks = [...listed.stdout.matchAll(/^block (\d+): /gm)].map((m) => Number(m[1]));
    const cut = whole.subarray(0, blocks[blocks.length - 1] * 512);
    assert.ok(cut.length > 0 && cut.length < whole.length);
    await forge(box, file, await zstd(cut));
    const v = await box.batt(['verify', String(run.id), '--json']);
    assert.equal(v.exitCode, 1, v.stdout + v.stderr);
    const checks = json(v)[0].checks;
    assert.equal(checks.find((c: any) => c.name === 'sha256').ok, true, 'the forged hash matches');
    const size = checks.find((c: any) => c.name === 'archive size');
    assert.equal(size.ok, false);
    assert.match(size.detail, /the archive is truncated/);
    const to = join(box.dir, 'from-cut');
    const r = await box.batt(['restore', String(run.id), 'file', '--to', to]);
    assert.equal(r.exitCode, 1, r.stderr + r.stdout);
    assert.match(r.stdout + r.stderr, /archive size: .*the archive is truncated/);
    assert.deepEqual(existsSync(to) ? readdirSync(to) : [], [], 'nothing restored, no staging folder left');
  });

  it('refuses a crafted archive with ../, absolute, symlink-escape, under-symlink and device entries; writes nothing', async () => {
    const evilDir = join(box.dir, 'evil');
    const script = `
import tarfile, io, sys
def add(t, name, data=b"x", **kw):
    i = tarfile.TarInfo(name); i.size = len(data)
    for k, v in kw.items(): setattr(i, k, v)
    t.addfile(i, io.BytesIO(data) if i.type == tarfile.REGTYPE else None)
with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as t:
    add(t, "ok.txt", b"fine")
    add(t, "../escaped.txt")
    add(t, "${box.dir}/absolute.txt")
    add(t, "out", type=tarfile.SYMTYPE, linkname="${box.dir}", size=0)
    add(t, "out/through-link.txt")
    add(t, "up", type=tarfile.SYMTYPE, linkname="../../..", size=0)
    add(t, "hard", type=tarfile.LNKTYPE, linkname="../../etc/passwd", size=0)
    add(t, "dev", type=tarfile.CHRTYPE, devmajor=1, devminor=3, size=0)
`;
    mkdirSync(evilDir);
    await execa('python3', ['-c', script, join(evilDir, 'evil.tar')]);
    const run = json(await box.batt(['show', String(runId), '--json']));
    await forge(box, run.items[0].file, await zstd(readFileSync(join(evilDir, 'evil.tar'))));
    const to = join(box.dir, 'target');
    const r = await box.batt(['restore', String(runId), 'file', '--to', to]);
    assert.equal(r.exitCode, 1, r.stderr + r.stdout);
    for (const why of ['contains ".."', 'is absolute', 'symlink pointing out', 'lies under the symlink', 'is a device', 'hard link'])
      assert.match(r.stderr + r.stdout, new RegExp(why.replace(/[.]/g, '\\.')));
    assert.equal(existsSync(to), false, 'the target was not even created');
    for (const f of ['escaped.txt', 'absolute.txt', 'through-link.txt']) assert.equal(existsSync(join(box.dir, f)), false, f);
    const v = await box.batt(['verify', String(runId)]);
    assert.equal(v.exitCode, 1);
    assert.match(v.stdout, /safe entries/);
  });
});

describe('restore: drop-in scripts get BATT_SOURCE', () => {
  const box = sandboxFor('all');
  before(async () => {
    assert.equal((await box.batt(['list'])).exitCode, 0, 'the home is set up');
  });

  it("runs restore-<svc> with the run's files under their names, BATT_INTO and BATT_FORCE", async () => {
    const available = join(box.home, 'scripts-available');
    writeFileSync(join(available, 'backup-notes'), '#!/bin/sh\nmkdir -p "$BATT_DEST/notes/sub"\necho one > "$BATT_DEST/notes/a.txt"\necho two > "$BATT_DEST/notes/sub/b.txt"\n', {
      mode: 0o755,
    });
    writeFileSync(
      join(available, 'restore-notes'),
      '#!/bin/sh\nset -e\nmkdir -p "$BATT_INTO"\ncp -rL "$BATT_SOURCE/." "$BATT_INTO/"\necho "restored run $BATT_RUN_ID force=${BATT_FORCE:-0}" >&2\n',
      { mode: 0o755 },
    );
    assert.equal((await box.batt(['notes', '--path', join(box.out, 'n')])).exitCode, 0);
    const second = json(await box.batt(['notes', '--path', join(box.out, 'n'), '--json'])); // a second run into the same folder
    assert.equal(second.status, 'ok');
    const to = join(box.dir, 'notes-back');
    const r = await box.batt(['restore', 'latest', 'notes', '--to', to, '--force']);
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    assert.match(r.stdout, new RegExp(`restored run ${second.id} force=1`));
    assert.equal(readFileSync(join(to, 'a.txt'), 'utf8'), 'one\n');
    assert.equal(readFileSync(join(to, 'sub', 'b.txt'), 'utf8'), 'two\n');
    assert.deepEqual(readdirSync(to).sort(), ['a.txt', 'sub'], "only this run's files, under the names the script wrote");
    // A file in a sub-folder is checked against the SHA256SUMS beside its run's manifest.
    const verify = await box.batt(['verify', String(second.id)]);
    assert.equal(verify.exitCode, 0, verify.stdout + verify.stderr);
  });

  it('says what to do when a drop-in has no restore script', async () => {
    writeFileSync(join(box.home, 'scripts-available', 'backup-other'), '#!/bin/sh\nmkdir -p "$BATT_DEST/other"; echo x > "$BATT_DEST/other/x"\n', { mode: 0o755 });
    assert.equal((await box.batt(['other', '--path', join(box.out, 'o')])).exitCode, 0);
    const missing = await box.batt(['restore', 'latest', 'other']);
    assert.equal(missing.exitCode, 2);
    assert.match(missing.stderr, /without a restore script/);
    assert.match(missing.stderr, /restore-other/);
  });
});

describe('restore: MariaDB truncated dumps and mirror prod', () => {
  const box = sandboxFor('all');
  const db = forSuite(() => startMariaDb({ user: ['r', 'r-pw'] }));
  let good: any;
  before(async () => {
    await db.sql(`CREATE DATABASE app; USE app; CREATE TABLE t (id INT PRIMARY KEY, s TEXT); CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, tid INT);
      CREATE TRIGGER trg AFTER INSERT ON t FOR EACH ROW INSERT INTO audit(tid) VALUES (NEW.id);
      INSERT INTO t SELECT seq, CONCAT('row ', seq, ' (a),(b) \\'q\\'') FROM seq_1_to_5000;
      CREATE VIEW v AS SELECT COUNT(*) AS n FROM t; CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;`);
    await db.sql('CREATE DATABASE app_test; CREATE TABLE app_test.marker (id INT); INSERT INTO app_test.marker VALUES (42)');
    const r = await box.batt(['--mysql-db', 'app', '--path', join(box.out, 'good'), '--json'], { env: db.env });
    assert.equal(r.exitCode, 0, r.stderr);
    good = json(r);
  });

  it('mirror prod: --replace swaps a checked copy in for app_test, triggers, views and routines included', async () => {
    const r = await box.batt(['restore', 'latest', 'mysql', '--target', 'app', '--into', 'app_test', '--replace'], { env: db.env });
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /swap/);
    assert.equal(await db.sql('SELECT COUNT(*) FROM t', 'app_test'), '5000');
    assert.equal(await db.sql('SELECT COUNT(*) FROM audit', 'app_test'), '5000', 'the trigger did not fire again during the restore');
    assert.equal(await db.sql('SELECT n FROM v', 'app_test'), '5000');
    assert.equal(await db.sql('SELECT twice(21)', 'app_test'), '42');
    await db.sql("INSERT INTO t VALUES (99999, 'x')", 'app_test');
    assert.equal(await db.sql('SELECT COUNT(*) FROM audit', 'app_test'), '5001', 'the trigger works in the swapped-in database');
    assert.equal(await db.sql("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'app_test' AND table_name = 'marker'"), '0');
    assert.equal(await db.sql("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name LIKE 'app_test\\_\\_batt%'"), '0', 'no temporary database left');
  });

  it('a truncated dump fails verify, and a mirror-prod restore from it keeps the old database', async () => {
    await db.sql('INSERT INTO marker VALUES (7)', 'app_test').catch(async () => db.sql('CREATE TABLE app_test.marker (id INT); INSERT INTO app_test.marker VALUES (7)'));
    const dump = await unzstd(good.items[0].file);
    // Cut after the last table's rows: complete statements, but no triggers, views and trailer.
    const cut = dump.subarray(0, dump.lastIndexOf('UNLOCK TABLES;') + 'UNLOCK TABLES;\n'.length);
    const r = await box.batt(['--mysql-db', 'app', '--path', join(box.out, 'cut'), '--json'], { env: db.env });
    const cutRun = json(r);
    await forge(box, cutRun.items[0].file, await zstd(cut));
    const v = await box.batt(['verify', String(cutRun.id), '--json'], { env: db.env });
    assert.equal(v.exitCode, 1, v.stderr);
    const checks = json(v)[0].checks;
    assert.equal(checks.find((c: any) => c.name === 'sha256').ok, true, 'the forged hash matches');
    assert.equal(checks.find((c: any) => c.name === 'trailer').ok, false);
    const before = await db.sql('SELECT COUNT(*) FROM marker', 'app_test');
    const restore = await box.batt(['restore', String(cutRun.id), 'mysql', '--into', 'app_test', '--replace'], { env: db.env });
    assert.equal(restore.exitCode, 1, restore.stderr + restore.stdout);
    assert.match(restore.stdout + restore.stderr, /trailer: the dump has no completion trailer: it is truncated/);
    assert.equal(await db.sql('SELECT COUNT(*) FROM marker', 'app_test'), before, 'app_test untouched');
    assert.equal(await db.sql("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name LIKE 'app_test\\_\\_batt%'"), '0', 'the failed copy was dropped');
    const shown = json(await box.batt(['show', String(cutRun.id), '--json']));
    assert.deepEqual(shown.items[0].checks.map((c: any) => `${c.kind}:${c.status}`).sort(), ['restore:failed', 'verify:failed']);
  });

  it('a damaged zstd stream (with a matching hash) stops the restore and leaves no new database', async () => {
    const packed = await zstd(await unzstd(good.items[0].file));
    packed.fill(0x41, Math.floor(packed.length / 2), Math.floor(packed.length / 2) + 64);
    const r = await box.batt(['--mysql-db', 'app', '--path', join(box.out, 'damaged'), '--json'], { env: db.env });
    const run = json(r);
    await forge(box, run.items[0].file, packed);
    const restore = await box.batt(['restore', String(run.id), 'mysql', '--into', 'damaged'], { env: db.env });
    assert.equal(restore.exitCode, 1, restore.stdout);
    assert.match(restore.stdout + restore.stderr, /cannot decompress/);
    assert.equal(await db.sql("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'damaged'"), '0');
  });

  it('a dump whose SQL fails halfway leaves no new database', async () => {
    const dump = (await unzstd(good.items[0].file)).toString('utf8').replace('INSERT INTO `t` VALUES', 'INSERT INTO `no_such_table` VALUES');
    const r = await box.batt(['--mysql-db', 'app', '--path', join(box.out, 'bad'), '--json'], { env: db.env });
    const badRun = json(r);
    await forge(box, badRun.items[0].file, await zstd(dump));
    const restore = await box.batt(['restore', String(badRun.id), 'mysql', '--into', 'halfway'], { env: db.env });
    assert.equal(restore.exitCode, 1, restore.stdout);
    assert.match(restore.stdout + restore.stderr, /no_such_table/);
    assert.equal(await db.sql("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'halfway'"), '0');
  });

  it('a dump with a client command (\\!, system) runs none of it: the restore fails and leaves no new database', async () => {
    const dump = (await unzstd(good.items[0].file)).toString('latin1');
    const marker = join(box.dir, 'mysql-client-command-ran');
    const calls = await recordCalls(join(box.dir, 'mysql-record'), ['mariadb', 'mysql']);
    const planted = [`\\! touch ${marker}`, `system touch ${marker}`, `SELECT 1; \\! touch ${marker}`];
    for (const [i, line] of planted.entries()) {
      // In the rows' part, after the schema: the staged restore has created tables when it comes.
      const r = json(await box.batt(['--mysql-db', 'app', '--path', join(box.out, `planted-${i}`), '--json'], { env: db.env }));
      await forge(box, r.items[0].file, await zstd(Buffer.from(dump.replace('INSERT INTO `t` VALUES', `${line}\nINSERT INTO \`t\` VALUES`), 'latin1')));
      const restore = await box.batt(['restore', String(r.id), 'mysql', '--into', `planted_${i}`], { env: { ...db.env, PATH: calls.path } });
      assert.equal(existsSync(marker), false, `${line}: the command ran`);
      assert.equal(restore.exitCode, 1, restore.stdout + restore.stderr);
      assert.match(
        restore.stderr,
        line.startsWith('system')
          ? /mariadb: ERROR 1064 \(42000\) at line \d+: You have an error in your SQL syntax.*near 'system touch/
          : /the dump holds a mysql client command \(ERROR at line \d+: Unknown command '\\!'\): batt runs none, and this one did not run/,
      );
      assert.equal(await db.sql(`SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'planted_${i}'`), '0', 'the half-restored database was dropped');
    }
    assert.match(calls.log(), /^ARGV \S+ --defaults-file=\S+ --binary-mode --sandbox -- planted_0$/m, 'the client ran with client commands off and in its sandbox');
    const honest = await box.batt(['restore', String(good.id), 'mysql', '--into', 'honest_after_planted'], { env: db.env });
    assert.equal(honest.exitCode, 0, honest.stdout + honest.stderr);
    assert.equal(await db.sql('SELECT COUNT(*) FROM t', 'honest_after_planted'), '5000');
  });
});

describe('restore: PostgreSQL mirror prod and parallel pg_restore', () => {
  const box = sandboxFor('all');
  const pg = forSuite(startPostgres);
  before(async () => {
    await pg.sql('CREATE DATABASE app');
    await pg.sql(
      'CREATE TABLE t (id int PRIMARY KEY, s text); INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 4000) i; CREATE TABLE u (id int); INSERT INTO u SELECT generate_series(1, 10);',
      'app',
    );
    await pg.sql('CREATE DATABASE app_test');
    await pg.sql('CREATE TABLE marker (id int); INSERT INTO marker VALUES (1);', 'app_test');
    const r = await box.batt(['--postgresql-db', 'app', '--path', join(box.out, 'p')], { env: pg.env });
    assert.equal(r.exitCode, 0, r.stderr);
  });

  it('restores with pg_restore -j2 into the default new name', async () => {
    const r = await box.batt(['restore', 'latest', 'postgres', '--target', 'app', '--jobs', '2'], { env: pg.env });
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /with 2 jobs/);
    assert.equal(await pg.sql('SELECT count(*) FROM t', 'app_restore_1'), '4000');
  });

  it('--replace swaps the checked copy in for app_test, even with a session open on it', async () => {
    // A session that stays open until the test ends it (psql waits on its input), however long the restore takes.
    const session = execa('psql', ['-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', '-d', 'app_test', '-v', 'ON_ERROR_STOP=1'], {
      env: { PATH: process.env.PATH, PGPASSWORD: pg.password },
      extendEnv: false,
      reject: false,
      stdin: 'pipe',
    });
    const open = async (): Promise<boolean> => (await pg.sql("SELECT count(*) FROM pg_stat_activity WHERE datname = 'app_test'")) !== '0';
    for (let i = 0; i < 100 && !(await open()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(await open(), 'the session is open on app_test before the swap');
    const r = await box.batt(['restore', 'latest', 'postgresql', '--target', 'app', '--into', 'app_test', '--replace'], { env: pg.env });
    // The swap ended the old session: its next statement finds the connection gone.
    session.stdin!.end('SELECT 1;\n');
    const ended = await session;
    assert.notEqual(ended.exitCode, 0, `the session was still open after the swap: ${ended.stdout}`);
    assert.match(String(ended.stderr), /terminat|connection/i);
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    assert.equal(await pg.sql('SELECT count(*) FROM t', 'app_test'), '4000');
    assert.equal(await pg.sql("SELECT count(*) FROM pg_tables WHERE tablename = 'marker'", 'app_test'), '0');
    assert.equal(await pg.sql("SELECT count(*) FROM pg_database WHERE datname LIKE 'app_test\\_\\_batt%'"), '0');
  });
});

describe('restore: the PostgreSQL roles-and-tablespaces script runs no psql command', () => {
  const box = sandboxFor('all');
  const pg = forSuite(startPostgres);
  let honest: any;
  let script: string;
  const marker = (): string => join(box.dir, 'psql-command-ran');
  const roles = async (name: string): Promise<string> => pg.sql(`SELECT count(*) FROM pg_roles WHERE rolname = '${name}'`);
  /**
   * A new backup of the roles whose script has `lines` (bytes as given) put in after pg_dumpall's
   * closing \\unrestrict, where pg_dumpall's own \\restrict no longer guards them.
   */
  const planted = async (name: string, lines: string): Promise<number> => {
    const r = json(await box.batt(['--postgresql-db', '@globals', '--path', join(box.out, name), '--json'], { env: pg.env }));
    assert.match(script, /^\\unrestrict \w+$/m, 'pg_dumpall closes its script with \\unrestrict');
    await forge(box, r.items[0].file, await zstd(Buffer.from(script.replace(/^(\\unrestrict \w+\n)/m, `$1${lines}\n`), 'latin1')));
    return r.id;
  };
  before(async () => {
    await pg.sql("CREATE ROLE honest_role LOGIN PASSWORD 'h-pw'");
    const r = await box.batt(['--postgresql-db', '@globals', '--path', join(box.out, 'honest'), '--json'], { env: pg.env });
    assert.equal(r.exitCode, 0, r.stderr);
    honest = json(r);
    script = (await unzstd(honest.items[0].file)).toString('latin1');
  });

  it('a \\! line, or one after a statement, is refused before any SQL ran; verify flags it', async () => {
    for (const [role, lines] of [
      ['planted_own', `CREATE ROLE planted_own;\n\\! touch ${marker()}`],
      ['planted_mid', `CREATE ROLE planted_mid; \\! touch ${marker()}`],
    ]) {
      const id = await planted(role, lines);
      const r = await box.batt(['restore', String(id), 'postgresql', '--target', '@globals'], { env: pg.env });
      assert.equal(existsSync(marker()), false, `${role}: the command ran`);
      assert.equal(await roles(role), '0', `${role}: the SQL before the command ran`);
      assert.equal(r.exitCode, 1, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        /the roles-and-tablespaces script holds a psql backslash command \(line \d+: \\! touch \S+psql-command-ran\): batt runs none, and ran nothing of this script/,
      );
      const v = await box.batt(['verify', String(id), '--json'], { env: pg.env });
      assert.equal(v.exitCode, 1, v.stdout);
      const check = json(v)[0].checks.find((c: any) => c.name === 'psql commands');
      assert.equal(check.ok, false);
      assert.match(check.detail, /a backslash command batt never runs: line \d+: \\! touch/);
    }
  });

  it("a command hidden from batt's own check (a Shift-JIS byte before a backslash) is still refused by psql's \\restrict, and the failure says what ran", async () => {
    // In Shift-JIS, 0x81 0x5c is one character: psql ends the E'' string there, while batt's
    // check reads 0x5c as an escaped quote and the \\! as inside the string.
    const id = await planted('sjis', `CREATE ROLE planted_sjis;\nSET client_encoding = 'SJIS';\nSELECT E'\x81\\';\n\\! touch ${marker()}\nRESET client_encoding;`);
    const r = await box.batt(['restore', String(id), 'postgresql', '--target', '@globals'], { env: pg.env });
    assert.equal(existsSync(marker()), false, 'the command ran');
    assert.equal(r.exitCode, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /psql refused a backslash command on line \d+ of the roles-and-tablespaces script and did not run it, but ran the SQL around it/);
    assert.equal(await roles('planted_sjis'), '1', 'as the message says, the SQL around it ran');
  });

  it('a psql without \\restrict runs no script, and says which psql to install', async () => {
    const psql = realTool('psql');
    const old = `#!/bin/sh\ncase "$1" in --version) echo 'psql (PostgreSQL) 15.13'; exit 0;; --help=commands) '${psql}' "$@" | grep -v restrict; exit 0;; esac\nexec '${psql}' "$@"\n`;
    const id = await planted('old-psql', 'CREATE ROLE planted_old;');
    const r = await box.batt(['restore', String(id), 'postgresql', '--target', '@globals'], { env: { ...pg.env, PATH: standIns(join(box.dir, 'old-psql'), { psql: old }) } });
    assert.equal(r.exitCode, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /psql \(PostgreSQL\) 15\.13 has no \\restrict, so it cannot run the roles-and-tablespaces script with its backslash commands refused/);
    assert.match(r.stderr, /13\.22, 14\.19, 15\.14, 16\.10, 17\.6 or later/);
    assert.equal(await roles('planted_old'), '0', 'nothing of the script ran');
  });

  it("pg_dumpall's own script still restores, its \\restrict lines and all", async () => {
    await pg.sql('DROP ROLE honest_role');
    const r = await box.batt(['restore', String(honest.id), 'postgresql', '--target', '@globals'], { env: pg.env });
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /roles and tablespaces applied/);
    assert.equal(await roles('honest_role'), '1');
    const v = await box.batt(['verify', String(honest.id), '--json'], { env: pg.env });
    assert.equal(v.exitCode, 0, v.stdout);
  });
});
