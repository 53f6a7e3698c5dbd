import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { which } from '@batt/core/exec/exec';
import { postgresqlPlugin } from '@batt/postgresql';
import { restoreArtifact } from '../lib/conformance.js';
import { json, realTool, recordCalls, sandboxFor, standIns } from '../lib/batt.js';
import { forSuite, startPostgres, startRedis, type Postgres, type Redis } from '../lib/servers.js';

const weird = ['-f', 'dbname=template1', "x'; DROP DATABASE shop; --", 'a b ü'];

async function restore(pg: Postgres, file: string, target: string, into: string): Promise<void> {
  await restoreArtifact(postgresqlPlugin, { host: '127.0.0.1', port: pg.port, user: 'postgres', password: pg.password }, file, target, into);
}

async function fingerprint(pg: Postgres, db: string): Promise<string> {
  return pg.sql(
    `SELECT string_agg(t, E'\\n' ORDER BY t) FROM (
    SELECT 'customers ' || count(*) || ' ' || md5(string_agg(c::text, ',' ORDER BY id)) AS t FROM customers c
    UNION ALL SELECT 'orders ' || count(*) || ' ' || md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o) x`,
    db,
  );
}

describe('postgresql service against a live PostgreSQL', () => {
  const pg = forSuite(startPostgres);
  const box = sandboxFor('all');
  before(async () => {
    await pg.sql('CREATE DATABASE shop');
    await pg.sql(
      `CREATE TABLE customers (id serial PRIMARY KEY, name text, data jsonb, photo bytea, seen timestamptz);
      CREATE TABLE orders (id serial PRIMARY KEY, customer int REFERENCES customers, total numeric(10,2));
      CREATE VIEW big AS SELECT * FROM orders WHERE total > 50;
      CREATE FUNCTION order_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM orders';
      INSERT INTO customers (name, data, photo, seen) SELECT 'Cüstömer ' || i || ' ''q''', jsonb_build_object('i', i), decode(lpad(to_hex(i), 8, '0'), 'hex'), '2020-01-01'::timestamptz + i * interval '1 minute' FROM generate_series(1, 700) i;
      INSERT INTO orders (customer, total) SELECT id, id * 1.5 FROM customers;
      CREATE ROLE reporting LOGIN PASSWORD 'rep-pw';`,
      'shop',
    );
    for (const name of weird) {
      await pg.sql(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      await pg.sql(`CREATE TABLE t (v text); INSERT INTO t VALUES ('in ' || current_database())`, name);
    }
  });

  it('backs up every non-template database and the globals, with row counts', async () => {
    const r = await box.batt(['postgres', '--path', join(box.out, 'all'), '--json'], { env: pg.env });
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    const targets = json(r)
      .items.map((i: any) => i.target)
      .sort();
    assert.deepEqual(targets, ['@globals', 'postgres', 'shop', ...weird].sort());
    const shown = json(await box.batt(['show', String(json(r).id), '--json']));
    const shop = shown.items.find((i: any) => i.target === 'shop');
    assert.deepEqual(shop.facts.rowCounts, { 'public.customers': 700, 'public.orders': 700 });
    assert.match(shop.serverVersion, /PostgreSQL/);
    assert.ok(shop.file.endsWith('shop.dump.zst'));
    assert.ok(shown.items.find((i: any) => i.target === '@globals').file.endsWith('_globals.sql.zst'));
  });

  it('restores into a new database with the same rows', async () => {
    const r = json(await box.batt(['--postgres-db', 'shop', '--path', join(box.out, 'shop'), '--json'], { env: pg.env }));
    await restore(pg, r.items[0].file, 'shop', 'shop_restored');
    assert.equal(await fingerprint(pg, 'shop_restored'), await fingerprint(pg, 'shop'));
    assert.equal(await pg.sql('SELECT order_count()', 'shop_restored'), '700');
    await assert.rejects(restore(pg, r.items[0].file, 'shop', 'shop_restored'), /already exists/);
    // batt's own plan names the versions short, not PostgreSQL's whole version() sentence.
    const plan = await box.batt(['restore', String(r.id), 'postgresql', '--target', 'shop', '--dry-run'], { env: pg.env });
    assert.equal(plan.exitCode, 0, plan.stderr);
    assert.match(plan.stdout, /made by pg_dump \(PostgreSQL\) \d+\.\d+ from server PostgreSQL \d+\.\d+$/m);
    assert.doesNotMatch(plan.stdout, /compiled by|linux-gnu|Debian/);
  });

  it("never puts the password on a command line, in a tool's environment or a log; the passfile is 0600", async () => {
    const calls = await recordCalls(join(box.dir, 'pg-record'), ['psql', 'pg_dump', 'pg_dumpall', 'pg_restore']);
    const e = { ...pg.env, PATH: calls.path };
    const b = await box.batt(['--postgresql-db', 'shop', '--path', join(box.out, 'secret'), '--json'], { env: e });
    assert.equal(b.exitCode, 0, b.stderr);
    const r = await box.batt(['restore', String(json(b).id), 'postgresql', '--target', 'shop', '--into', 'shop_secret'], { env: e });
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    const log = calls.log();
    assert.match(log, /^ARGV \S+pg_dump /m, 'the dump was recorded');
    assert.match(log, /^ARGV \S+pg_restore /m, 'the restore was recorded');
    assert.ok(!log.includes(pg.password), 'the password is in no argv and no environment of any call');
    const modes = log.split('\n').filter((l) => l.startsWith('MODE '));
    assert.ok(modes.length > 0 && modes.every((l) => l.startsWith('MODE 600 ')), `passfiles are 0600:\n${modes.join('\n')}`);
    const logs = readdirSync(join(box.home, 'logs'))
      .map((n) => readFileSync(join(box.home, 'logs', n), 'utf8'))
      .join('');
    assert.match(logs, /"scope":"postgresql"/);
    assert.ok(!(logs + b.stdout + b.stderr + r.stdout + r.stderr).includes(pg.password));
  });

  it('treats database names as data: -f, dbname=…, quotes', async () => {
    const r = await box.batt([...weird.map((w) => `--postgresql-db=${w}`), '--path', join(box.out, 'weird'), '--json'], { env: pg.env });
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    for (const [i, name] of weird.entries()) {
      const item = json(r).items.find((x: any) => x.target === name);
      await restore(pg, item.file, name, `weird_${i}`);
      assert.equal(await pg.sql('SELECT v FROM t', `weird_${i}`), `in ${name}`);
    }
    assert.equal(await pg.sql("SELECT count(*) FROM pg_database WHERE datname = 'shop'"), '1');
  });

  it('a wrong password fails the item clearly; a good Redis and folders still make a partial run', async () => {
    // Another database service beside it: Redis, the quickest real server to start.
    const redis: Redis = await startRedis({ password: 'redis pw' });
    try {
      const data = join(box.dir, 'data');
      mkdirSync(data, { recursive: true });
      writeFileSync(join(data, 'f'), 'x');
      await redis.cli('SET', 'k', 'v');
      const dest = join(box.out, 'mixed');
      const r = await box.batt(['redis', '--postgres-db', 'shop', '--file', data, '--path', dest, '--json'], {
        env: { ...pg.env, BATT_POSTGRESQL_PASSWORD: 'wrong', BATT_REDIS_HOST: '127.0.0.1', BATT_REDIS_PORT: String(redis.port), BATT_REDIS_PASSWORD: 'redis pw' },
      });
      assert.equal(r.exitCode, 1);
      const report = json(r);
      assert.equal(report.status, 'partial');
      assert.deepEqual(report.items.map((i: any) => `${i.service} ${i.status}`).sort(), ['file ok', 'postgresql failed', 'redis ok']);
      const failed = report.items.filter((i: any) => i.status !== 'ok');
      assert.match(failed[0].error, /authentication failed.*check postgresql\.user and postgresql\.password/);
      assert.doesNotMatch(r.stdout + r.stderr, /wrong/);
      assert.ok(!existsSync(join(dest, 'postgresql')) || readdirSync(join(dest, 'postgresql')).every((n) => !n.endsWith('.zst')));
      for (const ok of report.items.filter((i: any) => i.status === 'ok')) assert.ok(existsSync(ok.file));
    } finally {
      await redis.stop();
    }
  });

  it("rows and tables that change between batt's first look and the dump: the facts are the dump's, and it restores", async () => {
    await pg.sql('CREATE DATABASE shifting');
    await pg.sql(
      'CREATE TABLE grows (a int); INSERT INTO grows SELECT generate_series(1, 10); CREATE TABLE gone (a int); INSERT INTO gone VALUES (1); CREATE TABLE parts (a int) PARTITION BY RANGE (a); CREATE TABLE parts_1 PARTITION OF parts FOR VALUES FROM (0) TO (100); INSERT INTO parts SELECT generate_series(1, 7)',
      'shifting',
    );
    // The dump tool changes the database first: after batt asked the server, before the snapshot.
    const dump = realTool('pg_dump');
    const change = `'${realTool('psql')}' -X -q -h 127.0.0.1 -p ${pg.port} -U postgres -d shifting -c 'DROP TABLE gone; INSERT INTO grows SELECT generate_series(11, 15)'`;
    const path = standIns(join(box.dir, 'bin-shifting'), {
      pg_dump: `#!/bin/sh\ncase " $* " in *" --version "*) exec '${dump}' "$@";; esac\nPGPASSWORD='${pg.password}' ${change}\nexec '${dump}' "$@"\n`,
    });
    const r = await box.batt(['--postgresql-db', 'shifting', '--path', join(box.out, 'shifting'), '--json'], { env: { ...pg.env, PATH: path } });
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    const shown = json(await box.batt(['show', String(json(r).id), '--json']));
    assert.deepEqual(shown.items[0].facts.rowCounts, { 'public.grows': 15, 'public.parts_1': 7 });
    const back = await box.batt(['restore', String(json(r).id), 'postgresql', '--into', 'shifting_back'], { env: pg.env });
    assert.equal(back.exitCode, 0, back.stderr + back.stdout);
    assert.match(back.stdout, /rows against the backup: 2 tables match, 22 rows in all/);
  });

  it('an unreachable server fails clearly', async () => {
    const r = await box.batt(['postgresql', '--path', join(box.out, 'unreach'), '--json'], { env: { ...pg.env, BATT_POSTGRESQL_PORT: '1' } });
    assert.equal(r.exitCode, 1);
    assert.match(json(r).items[0].error, /cannot reach the server.*check postgresql\.host/);
  });

  it('asks each tool its version once per run; a database costs its dump, its archive check and one psql', async () => {
    const dbs = ['empty_1', 'empty_2', 'empty_3'];
    for (const db of dbs) await pg.sql(`CREATE DATABASE ${db}`);
    // Stand-ins first on PATH that log each call and run the real tool (pg_wrapper on Debian).
    const bin = join(box.dir, 'pg-bin-counting');
    const log = join(box.dir, 'pg-calls.log');
    mkdirSync(bin, { recursive: true });
    for (const tool of ['psql', 'pg_dump', 'pg_dumpall', 'pg_restore']) {
      const real = which(tool);
      assert.ok(real, `${tool} on PATH`);
      writeFileSync(join(bin, tool), `#!/bin/sh\nprintf '%s\\n' "${tool} $*" >> '${log}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
    }
    const r = await box.batt([...dbs.map((db) => `--postgresql-db=${db}`), '--postgresql-db=@globals', '--path', join(box.out, 'counted'), '--json'], {
      env: { ...pg.env, PATH: `${bin}:${process.env.PATH}` },
    });
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    assert.deepEqual(
      json(r).items.map((i: any) => i.status),
      ['ok', 'ok', 'ok', 'ok'],
    );
    const calls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    for (const tool of ['psql', 'pg_dump', 'pg_dumpall', 'pg_restore']) {
      assert.ok(calls.filter((c) => c === `${tool} --version`).length <= 1, `${tool} --version once at most:\n${calls.join('\n')}`);
    }
    for (const db of dbs) {
      const own = calls.filter((c) => c.includes(`dbname='${db}'`));
      assert.deepEqual(own.map((c) => c.split(' ')[0]).sort(), ['pg_dump', 'psql'], `${db}:\n${calls.join('\n')}`);
    }
    assert.equal(calls.filter((c) => c === 'pg_restore --data-only --file=-').length, dbs.length, calls.join('\n'));
    assert.equal(calls.filter((c) => !c.endsWith(' --version')).length, dbs.length * 3 + 2, calls.join('\n')); // + pg_dumpall and its psql
  });

  describe('with stand-in dump tools', () => {
    /** pg_dump / pg_dumpall replaced by `scripts`, first on PATH ('' leaves one out). */
    const fakeBin = (name: string, scripts: Record<string, string>): Record<string, string> => ({
      ...pg.env,
      PATH: standIns(join(box.dir, `pg-bin-${name}`), scripts, ['psql', 'pg_dump', 'pg_dumpall', 'pg_restore', 'zstd', 'setpriv', 'stdbuf']),
    });
    const left = (dest: string, name: string): string[] => (existsSync(join(dest, 'postgresql')) ? readdirSync(join(dest, 'postgresql')).filter((n) => n.includes(name)) : []);

    it('a pg_dump that exits 0 with its archive cut short is a failure, and no artifact is left', async () => {
      const dest = join(box.out, 'pg-truncated');
      // The real archive without its last 100 bytes: the last table's data block never ends.
      const r = await box.batt(['--postgresql-db', 'shop', '--path', dest, '--json'], {
        env: fakeBin('trunc', { pg_dump: `#!/bin/sh\n${realTool('pg_dump')} "$@" | head -c -100\nexit 0\n` }),
      });
      assert.equal(r.exitCode, 1);
      assert.match(json(r).items[0].error, /pg_dump exited 0, but pg_restore cannot read its archive of "shop" to the end \(pg_restore: .+\): the archive is truncated/);
      assert.deepEqual(left(dest, 'shop'), []);
    });

    it('a pg_dumpall script without its trailer is a failure; the databases beside it are kept', async () => {
      const dest = join(box.out, 'pg-globals-truncated');
      const r = await box.batt(['postgresql', '--path', dest, '--json'], { env: fakeBin('globals', { pg_dumpall: '#!/bin/sh\necho "CREATE ROLE reporting;"\nexit 0\n' }) });
      assert.equal(r.exitCode, 1);
      const report = json(r);
      assert.equal(report.status, 'partial');
      const globals = report.items.find((i: any) => i.target === '@globals');
      assert.match(globals.error, /pg_dumpall exited 0 but its script has no "cluster dump complete" trailer: it is truncated/);
      assert.deepEqual(left(dest, 'globals'), []);
      assert.ok(report.items.find((i: any) => i.target === 'shop').status === 'ok');
    });

    it('refuses a pg_dump older than the server, saying what to install', async () => {
      const major = (await pg.sql('SHOW server_version_num')).trim().slice(0, -4);
      const old = `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) 9.6.24"; exit 0; fi\nexec ${realTool('pg_dump')} "$@"\n`;
      const r = await box.batt(['--postgresql-db', 'shop', '--path', join(box.out, 'pg-old'), '--json'], { env: fakeBin('old', { pg_dump: old }) });
      assert.equal(r.exitCode, 1);
      assert.match(json(r).items[0].error, new RegExp(`pg_dump 9 is older than the PostgreSQL ${major} server.*install postgresql-client-${major}`));
    });

    it('a missing pg_dump says what to install', async () => {
      const r = await box.batt(['--postgresql-db', 'shop', '--path', join(box.out, 'pg-missing'), '--json'], { env: fakeBin('missing', { pg_dump: '' }) });
      assert.equal(r.exitCode, 1);
      assert.match(json(r).items[0].error, /pg_dump is not installed.*apt-get install postgresql-client/);
    });

    it('a pg_dump killed halfway is a failure', async () => {
      const dest = join(box.out, 'pg-killed');
      const r = await box.batt(['--postgresql-db', 'shop', '--path', dest, '--json'], {
        env: fakeBin('killed', { pg_dump: `#!/bin/sh\n${realTool('pg_dump')} "$@" | head -c 2000\nkill -9 $$\n` }),
      });
      assert.equal(r.exitCode, 1);
      assert.match(json(r).items[0].error, /pg_dump was killed by SIGKILL/);
      assert.deepEqual(left(dest, 'shop'), []);
    });
  });
});
