import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { before, describe, it } from 'node:test';
import { execa } from 'execa';
import { mysqlPlugin } from '@batt/mysql';
import { restoreArtifact } from '../lib/conformance.js';
import { battBin, json, processWatch, realTool, recordCalls, sandboxFor, standIns } from '../lib/batt.js';
import { forSuite, startMariaDb, type MariaDb } from '../lib/servers.js';

const password = `b@tt "pw' \\ x`;
const weird = ['--result-file=PWNED', 'a b', 'ü', "x'; DROP DATABASE shop; --"];

/** Restores an artifact with the plugin's own restore, fed by `zstd -dc`. */
async function restore(db: MariaDb, file: string, into: string, force = false): Promise<void> {
  await restoreArtifact(mysqlPlugin, { host: '127.0.0.1', port: db.port, user: db.env.BATT_MYSQL_USER, password: db.env.BATT_MYSQL_PASSWORD }, file, into, into, force);
}

/** Per table: row count and CHECKSUM TABLE, for comparing a database with its restore. */
async function fingerprint(db: MariaDb, name: string): Promise<string> {
  const tables = (await db.sql(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${name.replace(/'/g, "''")}' AND table_type = 'BASE TABLE' ORDER BY 1`))
    .split('\n')
    .filter(Boolean);
  const q = (t: string): string => `\`${name.replace(/`/g, '``')}\`.\`${t}\``;
  const parts = [];
  for (const t of tables) parts.push(`${t} ${await db.sql(`SELECT COUNT(*) FROM ${q(t)}`)} ${(await db.sql(`CHECKSUM TABLE ${q(t)}`)).split('\t')[1]}`);
  return parts.join('\n');
}

describe('mysql service against a live MariaDB', () => {
  const db = forSuite(() => startMariaDb({ user: ['batt', password] }));
  const box = sandboxFor('all');
  before(async () => {
    await db.sql(`CREATE DATABASE shop; USE shop;
      CREATE TABLE customers (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(100), note TEXT, photo BLOB, created DATETIME(6)) ENGINE=InnoDB;
      CREATE TABLE orders (id INT PRIMARY KEY AUTO_INCREMENT, customer INT, total DECIMAL(10,2), FOREIGN KEY (customer) REFERENCES customers(id)) ENGINE=InnoDB;
      CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, msg VARCHAR(200));
      CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 50;
      CREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW INSERT INTO audit (msg) VALUES (CONCAT('order ', NEW.id));
      CREATE PROCEDURE order_count() SELECT COUNT(*) FROM orders;
      CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM audit WHERE id < 0;`);
    const values = Array.from(
      { length: 500 },
      (_, i) =>
        `('Cüstömer ${i} ''quoted''', REPEAT('note ${i} ', 20), UNHEX('00FF${(i % 256).toString(16).padStart(2, '0')}0A0D5C27'), '2020-01-01 00:00:00.${String(i).padStart(6, '0')}')`,
    ).join(',');
    await db.sql(`INSERT INTO customers (name, note, photo, created) VALUES ${values}`, 'shop');
    await db.sql(`INSERT INTO orders (customer, total) SELECT id, id * 1.5 FROM customers`, 'shop');
    await db.sql(`CREATE DATABASE legacy; CREATE TABLE legacy.old (id INT, v VARCHAR(10)) ENGINE=MyISAM; INSERT INTO legacy.old VALUES (1, 'a'), (2, 'b')`);
    for (const name of weird) {
      const ident = `\`${name.replace(/`/g, '``')}\``;
      await db.sql(`CREATE DATABASE ${ident}; CREATE TABLE ${ident}.t (v VARCHAR(50)); INSERT INTO ${ident}.t VALUES ('in ${name.replace(/'/g, "''")}')`);
    }
  });

  it('backs up every non-system database, one artifact each, with row counts and versions', async () => {
    const r = await box.batt(['mysql', '--path', join(box.out, 'all'), '--json'], { env: db.env });
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    const report = json(r);
    assert.deepEqual(report.items.map((i: any) => i.target).sort(), ['legacy', 'shop', ...weird].sort());
    assert.ok(report.items.every((i: any) => i.status === 'ok' && i.file.endsWith('.sql.zst')));
    const shown = json(await box.batt(['show', String(report.id), '--json']));
    const shop = shown.items.find((i: any) => i.target === 'shop');
    assert.deepEqual(shop.facts.rowCounts, { audit: 500, customers: 500, orders: 500 });
    assert.equal(shop.facts.consistency, 'single-transaction');
    assert.match(shop.serverVersion, /MariaDB/);
    assert.match(shop.toolVersion, /Ver/);
    const legacy = shown.items.find((i: any) => i.target === 'legacy');
    assert.equal(legacy.facts.consistency, 'lock-tables');
    assert.ok(!existsSync(join(box.dir, 'PWNED')) && !existsSync('PWNED'), 'a database name never became an option');
    assert.equal((await execa('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(box.out, 'all', 'mysql') })).exitCode, 0);
  });

  it('restores into a new database with the same rows, routines, triggers and events', async () => {
    const r = json(await box.batt(['--mysql-db', 'shop', '--path', join(box.out, 'shop'), '--json'], { env: db.env }));
    await restore(db, r.items[0].file, 'shop_restored');
    assert.equal(await fingerprint(db, 'shop_restored'), await fingerprint(db, 'shop'));
    assert.equal(await db.sql("SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = 'shop_restored'"), '1');
    assert.equal(await db.sql("SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = 'shop_restored'"), '1');
    assert.equal(await db.sql("SELECT COUNT(*) FROM information_schema.events WHERE event_schema = 'shop_restored'"), '1');
    await assert.rejects(restore(db, r.items[0].file, 'shop_restored'), /already exists.*|--force/);
  });

  it('backs up and restores databases whose names look like options or SQL', async () => {
    const r = await box.batt([...weird.map((w) => `--mysql-db=${w}`), '--path', join(box.out, 'weird'), '--json'], { env: db.env });
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    const report = json(r);
    for (const [i, name] of weird.entries()) {
      const item = report.items.find((x: any) => x.target === name);
      await restore(db, item.file, `restored_${i}`);
      assert.equal(await db.sql('SELECT v FROM t', `restored_${i}`), `in ${name}`);
    }
    assert.equal(await db.sql("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'shop'"), '1', 'shop was not dropped');
  });

  it("never puts the password on a command line or in a tool's environment", async () => {
    // Stand-ins first on PATH record every client and dump call: all of this run's, only its.
    const calls = await recordCalls(join(box.dir, 'bin-record'), ['mariadb', 'mysql', 'mariadb-dump', 'mysqldump']);
    const r = await box.batt(['mysql', '--path', join(box.out, 'ps'), '--json'], { env: { ...db.env, PATH: calls.path } });
    assert.equal(r.exitCode, 0, r.stderr);
    const log = calls.log();
    const argvs = log.split('\n').filter((l) => l.startsWith('ARGV '));
    assert.ok(
      argvs.some((l) => /(mysqldump|mariadb-dump) --defaults-file=\S+ /.test(l)),
      `a dump ran with its option file:\n${argvs.join('\n')}`,
    );
    assert.ok(
      argvs.some((l) => /(mariadb|mysql) --defaults-file=/.test(l)),
      'a client ran with its option file',
    );
    assert.ok(!log.includes('b@tt'), 'the password is in no argv and no environment of any call');
    const modes = log.split('\n').filter((l) => l.startsWith('MODE '));
    assert.ok(modes.length > 0 && modes.every((l) => l.startsWith('MODE 600 ')), `option files are 0600:\n${modes.join('\n')}`);
    const logs = readdirSync(join(box.home, 'logs'))
      .map((n) => readFileSync(join(box.home, 'logs', n), 'utf8'))
      .join('');
    assert.match(logs, /"scope":"mysql"/, 'the log file holds the run');
    assert.ok(!logs.includes('b@tt'));
  });

  it('a small database starts one process beside the client: no stdbuf, and no zstd binary where Node has zstd', async () => {
    const calls = await recordCalls(join(box.dir, 'bin-small'), ['mariadb-dump', 'mysqldump', 'stdbuf', 'zstd']);
    const r = await box.batt(['--mysql-db', 'shop', '--path', join(box.out, 'small'), '--json'], { env: { ...db.env, PATH: calls.path } });
    assert.equal(r.exitCode, 0, r.stderr);
    const argvs = calls
      .log()
      .split('\n')
      .filter((l) => l.startsWith('ARGV '));
    assert.ok(
      argvs.some((l) => /(mysqldump|mariadb-dump) --defaults-file=/.test(l)),
      `the dump ran:\n${argvs.join('\n')}`,
    );
    assert.ok(!argvs.some((l) => l.includes('/stdbuf ')), `no stdbuf for a small dump:\n${argvs.join('\n')}`);
    const nodeZstd = typeof (zlib as { createZstdCompress?: unknown }).createZstdCompress === 'function';
    assert.equal(
      argvs.some((l) => l.includes('/zstd ')),
      !nodeZstd,
      `the zstd binary runs only where Node has no zstd (Node ${process.version}):\n${argvs.join('\n')}`,
    );
    const file = json(r).items[0].file as string;
    assert.match(file, /\.sql\.zst$/);
    await execa('zstd', ['-t', file]); // the standard tool reads what Node wrote
  });

  it('refuses non-transactional tables when told to, explaining why', async () => {
    const r = await box.batt(['--mysql-db', 'legacy', '--mysql-db', 'shop', '--path', join(box.out, 'myisam'), '--json'], {
      env: { ...db.env, BATT_MYSQL_NON_TRANSACTIONAL: 'fail' },
    });
    assert.equal(r.exitCode, 1);
    const legacy = json(r).items.find((i: any) => i.target === 'legacy');
    assert.equal(legacy.status, 'failed');
    assert.match(legacy.error, /non-transactional tables \(old \(MyISAM\)\)/);
    assert.equal(json(r).status, 'partial');
  });

  it('a wrong password fails clearly, with nothing written', async () => {
    const r = await box.batt(['--mysql-db', 'shop', '--path', join(box.out, 'wrongpw'), '--json'], { env: { ...db.env, BATT_MYSQL_PASSWORD: 'nope' } });
    assert.equal(r.exitCode, 1);
    assert.match(json(r).items[0].error, /access denied.*check mysql\.user and mysql\.password/i);
    assert.ok(!existsSync(join(box.out, 'wrongpw', 'mysql')) || readdirSync(join(box.out, 'wrongpw', 'mysql')).every((n) => !n.endsWith('.zst')));
  });

  it('an unreachable server fails clearly', async () => {
    const r = await box.batt(['mysql', '--path', join(box.out, 'unreach'), '--json'], { env: { ...db.env, BATT_MYSQL_PORT: '1' } });
    assert.equal(r.exitCode, 1);
    assert.match(json(r).items[0].error, /cannot reach the server.*check mysql\.host/);
  });

  it('a server that takes the connection and never answers fails clearly after connect_timeout, listed or named', async () => {
    // Another service on that port, say: it accepts, and waits for the client to speak first.
    const silent = createServer(() => {});
    await new Promise<void>((listening) => silent.listen(0, '127.0.0.1', listening));
    try {
      const env = { ...db.env, BATT_MYSQL_HOST: '127.0.0.1', BATT_MYSQL_PORT: String((silent.address() as AddressInfo).port), BATT_MYSQL_CONNECT_TIMEOUT: '2' };
      for (const args of [['mysql'], ['--mysql-db', 'shop']]) {
        const started = Date.now();
        const r = await box.batt([...args, '--path', join(box.out, 'mute'), '--json'], { env, timeout: 60_000 });
        assert.equal(r.exitCode, 1, `${args.join(' ')}: ${r.stderr}`);
        assert.match(json(r).items[0].error, /cannot reach the server: ERROR 2013 .*initial communication packet.*check mysql\.host/);
        assert.ok(Date.now() - started < 30_000, `${args.join(' ')} took ${Date.now() - started} ms`);
      }
    } finally {
      silent.close();
    }
  });

  it("a table dropped between batt's listing and the dump: the facts are what the dump holds, and it restores", async () => {
    await db.sql(
      'CREATE DATABASE shifting; CREATE TABLE shifting.stays (a INT); INSERT INTO shifting.stays VALUES (1), (2); CREATE TABLE shifting.gone (a INT); INSERT INTO shifting.gone VALUES (3)',
    );
    // The dump tool drops the table first: after batt listed the tables, before the dump began
    // (asked its version, while batt plans the run, it only answers).
    const dump = realTool(existsSync('/usr/bin/mariadb-dump') ? 'mariadb-dump' : 'mysqldump');
    const dropFirst = `#!/bin/sh\n[ "$1" = --version ] && exec '${dump}' "$@"\n'${realTool('mariadb')}' --no-defaults -uroot '--socket=${db.socket}' -e 'DROP TABLE shifting.gone'\nexec '${dump}' "$@"\n`;
    const path = standIns(join(box.dir, 'bin-drop-first'), { mysqldump: dropFirst, 'mariadb-dump': dropFirst });
    const r = await box.batt(['--mysql-db', 'shifting', '--path', join(box.out, 'shifting'), '--json'], { env: { ...db.env, PATH: path } });
    assert.equal(r.exitCode, 0, r.stderr);
    const shown = json(await box.batt(['show', String(json(r).id), '--json']));
    assert.deepEqual(shown.items[0].facts.rowCounts, { stays: 2 });
    const back = await box.batt(['restore', String(json(r).id), 'mysql', '--into', 'shifting_back'], { env: db.env });
    assert.equal(back.exitCode, 0, back.stderr + back.stdout);
    assert.equal(await db.sql('SELECT COUNT(*) FROM shifting_back.stays'), '2');
  });

  describe('with stand-in dump tools', () => {
    /**
     * The dump tool (under both its names) replaced by `script`, first on PATH; '' leaves it out.
     * Asked `--version` (batt asks while it plans the run), it answers as the real one does.
     */
    const fakeBin = (name: string, script: string): Record<string, string> => {
      const tool =
        script &&
        script.replace(/^#!\/bin\/sh\n/, '#!/bin/sh\n[ "$1" = --version ] && { echo "mariadb-dump from 11.8.3-MariaDB, client 10.19 for debian-linux-gnu (x86_64)"; exit 0; }\n');
      return { ...db.env, PATH: standIns(join(box.dir, `bin-${name}`), { mysqldump: tool, 'mariadb-dump': tool }, ['mariadb', 'zstd', 'tar', 'setpriv', 'sleep']) };
    };

    it('a missing mysqldump says what to install', async () => {
      const r = await box.batt(['--mysql-db', 'shop', '--path', join(box.out, 'missing'), '--json'], { env: fakeBin('missing', '') });
      assert.equal(r.exitCode, 1);
      assert.match(json(r).items[0].error, /mysqldump is not installed.*apt-get install mariadb-client/);
    });

    it('a dump that exits 0 without its completion trailer is a failure, and no artifact is left', async () => {
      const dest = join(box.out, 'truncated');
      const r = await box.batt(['--mysql-db', 'shop', '--path', dest, '--json'], {
        env: fakeBin('trunc', '#!/bin/sh\necho "CREATE TABLE t (a int);"\necho "INSERT INTO t VALUES (1"\nexit 0\n'),
      });
      assert.equal(r.exitCode, 1);
      assert.match(json(r).items[0].error, /no completion trailer: it is truncated/);
      assert.deepEqual(existsSync(join(dest, 'mysql')) ? readdirSync(join(dest, 'mysql')).filter((n) => n.includes('shop')) : [], []);
    });

    it('a dump killed halfway is a failure', async () => {
      const r = await box.batt(['--mysql-db', 'shop', '--path', join(box.out, 'killed'), '--json'], { env: fakeBin('killed', '#!/bin/sh\necho "-- partial"\nkill -9 $$\n') });
      assert.equal(r.exitCode, 1);
      assert.match(json(r).items[0].error, /killed by SIGKILL/);
    });

    it('the dump dies with batt, so no lock outlives it', async () => {
      const pidFile = join(box.dir, 'dump.pid');
      const environment = fakeBin('hang', `#!/bin/sh\necho $$ > ${pidFile}\necho "-- started"\nexec sleep 60\n`);
      const run = execa(process.execPath, [battBin, '--home', box.home, '--mysql-db', 'shop', '--path', join(box.out, 'hang')], {
        extendEnv: false,
        env: box.env(environment),
        reject: false,
      });
      const pidIn = (): number => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0);
      for (let i = 0; i < 100 && !(pidIn() > 0); i++) await new Promise((r) => setTimeout(r, 100));
      const pid = pidIn();
      assert.ok(pid > 0, 'the stand-in dump started');
      const dump = processWatch(pid);
      assert.ok(dump.running, 'the stand-in dump is running');
      run.kill('SIGKILL');
      await run;
      assert.equal(await dump.ended(), true, 'the dump process outlived batt');
      // Nothing that looks finished, no row that says ok; the next run marks the dead one aborted.
      const left: string[] = [];
      const walk = (dir: string): void => {
        for (const e of existsSync(dir) ? readdirSync(dir, { withFileTypes: true }) : []) e.isDirectory() ? walk(join(dir, e.name)) : left.push(e.name);
      };
      walk(join(box.out, 'hang'));
      assert.deepEqual(
        left.filter((n) => !n.startsWith('.batt-')),
        [],
        'no artifact, manifest or SHA256SUMS of the killed run',
      );
      const sql = async (q: string): Promise<string> => (await execa('sqlite3', [join(box.home, 'catalog.db'), q])).stdout.trim();
      const id = await sql('select max(id) from runs');
      assert.equal(await sql(`select count(*) from items where run_id = ${id} and status = 'ok'`), '0');
      const next = await box.batt(['--file', box.folder('after-kill', { a: 'a' }), '--path', join(box.out, 'after')]);
      assert.equal(next.exitCode, 0, next.stderr);
      assert.equal(await sql(`select status from runs where id = ${id}`), 'aborted');
      assert.equal(await sql(`select group_concat(distinct status) from items where run_id = ${id}`), 'aborted');
      left.length = 0;
      walk(join(box.out, 'hang'));
      assert.deepEqual(left, [], 'the next run cleared what the killed one left');
    });
  });
});

describe('mysql over TLS, against a live MariaDB that requires it', () => {
  const box = sandboxFor('all');
  const certs = (): string => join(box.dir, 'tls');
  /** A CA, and a certificate it signed for 127.0.0.1, made with openssl. */
  const makeCa = async (dir: string, name: string): Promise<void> => {
    mkdirSync(dir, { recursive: true });
    const ssl = (...args: string[]): Promise<unknown> => execa('openssl', args, { cwd: dir });
    await ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', `/CN=${name}`);
    await ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    await ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext');
  };
  const db = forSuite(async () => {
    await makeCa(certs(), 'batt test CA');
    return startMariaDb({ args: [`--ssl-ca=${join(certs(), 'ca.pem')}`, `--ssl-cert=${join(certs(), 'server.pem')}`, `--ssl-key=${join(certs(), 'server.key')}`] });
  });
  let env: Record<string, string>;
  before(async () => {
    await db.sql(`CREATE USER 'secure'@'127.0.0.1' IDENTIFIED BY 'tls-pw' REQUIRE SSL; GRANT ALL ON *.* TO 'secure'@'127.0.0.1'`);
    await db.sql('CREATE DATABASE vault; CREATE TABLE vault.t (v INT); INSERT INTO vault.t VALUES (1), (2), (3)');
    env = { BATT_MYSQL_HOST: '127.0.0.1', BATT_MYSQL_PORT: String(db.port), BATT_MYSQL_USER: 'secure', BATT_MYSQL_PASSWORD: 'tls-pw' };
  });

  it('backs up through TLS, checking the server against ssl_ca', async () => {
    const r = await box.batt(['--mysql-db', 'vault', '--path', join(box.out, 'tls'), '--json'], {
      env: { ...env, BATT_MYSQL_SSL_MODE: 'verify_identity', BATT_MYSQL_SSL_CA: join(certs(), 'ca.pem') },
    });
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const shown = json(await box.batt(['show', String(json(r).id), '--json']));
    assert.deepEqual(shown.items[0].facts.rowCounts, { t: 3 });
  });

  it('without TLS the server refuses the user, and batt says so', async () => {
    const r = await box.batt(['--mysql-db', 'vault', '--path', join(box.out, 'plain'), '--json'], { env: { ...env, BATT_MYSQL_SSL_MODE: 'disabled' } });
    assert.equal(r.exitCode, 1);
    assert.match(json(r).items[0].error, /access denied.*check mysql\.user and mysql\.password/i);
  });

  it('a server whose certificate another CA signed is refused', async () => {
    const other = join(box.dir, 'other-ca');
    await makeCa(other, 'some other CA');
    const r = await box.batt(['--mysql-db', 'vault', '--path', join(box.out, 'wrong-ca'), '--json'], {
      env: { ...env, BATT_MYSQL_SSL_MODE: 'verify_ca', BATT_MYSQL_SSL_CA: join(other, 'ca.pem') },
    });
    assert.equal(r.exitCode, 1);
    assert.match(json(r).items[0].error, /mysql: TLS to the server failed: .*certificate.*check mysql\.ssl_mode and mysql\.ssl_ca/);
  });
});
