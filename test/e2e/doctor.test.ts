import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { json, sandboxFor, standIns, type BattResult } from '../lib/batt.js';
import { startS3, type S3Server } from '../lib/s3.js';
import { startMariaDb, startPostgres, startRedis, type MariaDb, type Postgres, type Redis } from '../lib/servers.js';

/** In every password and secret of this file: no doctor output may ever hold it. */
const MARK = 'SECRET-MARKER-d0ct0r';

interface Line {
  service?: string;
  check: string;
  ok: boolean;
  detail: string;
  fix: string | null;
}

describe('batt doctor against the test servers', () => {
  const box = sandboxFor('all');
  let maria: MariaDb;
  let pg: Postgres;
  let redis: Redis;
  let s3: S3Server;
  let env: Record<string, string>;
  /** Everything every doctor of this file printed, for the secret-marker test at the end. */
  const printed: string[] = [];

  const doctor = async (args: readonly string[], extra: Record<string, string> = {}): Promise<BattResult> => {
    const r = await box.batt(['doctor', ...args], { env: { ...env, ...extra } });
    printed.push(r.stdout, r.stderr);
    return r;
  };
  /** The JSON lines of `batt doctor … --json`. */
  const lines = async (args: readonly string[], extra: Record<string, string> = {}): Promise<{ exitCode: number; lines: Line[] }> => {
    const r = await doctor([...args, '--json'], extra);
    return { exitCode: r.exitCode, lines: json<Line[]>(r) };
  };
  const failed = (all: Line[]): Line[] => all.filter((l) => !l.ok);

  before(async () => {
    [maria, pg, redis, s3] = await Promise.all([startMariaDb(), startPostgres(), startRedis({ password: `${MARK}-redis` }), startS3()]);
    await maria.sql(`CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY) ENGINE=InnoDB;
      CREATE USER 'batt'@'127.0.0.1' IDENTIFIED BY '${MARK}-mysql'; GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES ON *.* TO 'batt'@'127.0.0.1';
      CREATE USER 'weak'@'127.0.0.1' IDENTIFIED BY '${MARK}-weak'; GRANT SELECT ON shop.* TO 'weak'@'127.0.0.1'`);
    await pg.sql(`CREATE DATABASE shop`);
    await pg.sql(
      `CREATE TABLE orders (id int); CREATE TABLE secrets (id int);
      CREATE ROLE batt LOGIN PASSWORD '${MARK}-pg'; GRANT pg_read_all_data TO batt;
      CREATE ROLE weak LOGIN PASSWORD '${MARK}-weak'; GRANT SELECT ON orders TO weak;`,
      'shop',
    );
    const data = box.folder('data', { a: 'alpha' });
    const secret = join(box.dir, 's3.secret');
    writeFileSync(secret, `${MARK}-s3`, { mode: 0o600 });
    const key = join(box.dir, 'age.key');
    execFileSync('age-keygen', ['-o', key], { stdio: 'ignore' });
    const recipient = execFileSync('age-keygen', ['-y', key], { encoding: 'utf8' }).trim();
    writeFileSync(
      join(box.home, 'conf', 'batt.config.yaml'),
      [
        `destination: ${JSON.stringify(join(box.out, '%Y/{service}'))}`,
        `encryption: { age_recipients: [${recipient}] }`,
        'storage:',
        `  - { name: offsite, type: s3, bucket: ${s3.bucket}, endpoint: ${JSON.stringify(s3.endpoint)}, force_path_style: true, access_key_id: ${s3.credentials.accessKeyId}, secret_access_key_file: ${JSON.stringify(secret)} }`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    env = {
      BATT_MYSQL_HOST: '127.0.0.1',
      BATT_MYSQL_PORT: String(maria.port),
      BATT_MYSQL_USER: 'batt',
      BATT_MYSQL_PASSWORD: `${MARK}-mysql`,
      BATT_POSTGRESQL_HOST: '127.0.0.1',
      BATT_POSTGRESQL_PORT: String(pg.port),
      BATT_POSTGRESQL_USER: 'batt',
      BATT_POSTGRESQL_PASSWORD: `${MARK}-pg`,
      BATT_POSTGRESQL_DATABASES: 'shop',
      BATT_REDIS_HOST: '127.0.0.1',
      BATT_REDIS_PORT: String(redis.port),
      BATT_REDIS_PASSWORD: `${MARK}-redis`,
      BATT_FILE_PATHS: data,
    };
  });
  after(async () => {
    await Promise.all([maria?.stop(), pg?.stop(), redis?.stop(), s3?.stop()]);
  });

  const services = ['mysql', 'postgresql', 'redis', 'file'];

  it('all green: every check passes and exits 0; one line each, and --json says the same', async () => {
    const text = await doctor(services);
    assert.equal(text.exitCode, 0, text.stdout + text.stderr);
    assert.doesNotMatch(text.stdout, /✗/);
    assert.match(text.stdout, /^✓ mysql privileges: enough for a consistent dump/m);
    assert.match(text.stdout, /^all \d+ checks passed$/m);
    const r = await lines(services);
    assert.equal(r.exitCode, 0);
    const names = r.lines.map((l) => `${l.service ? `${l.service} ` : ''}${l.check}`);
    for (const name of [
      'configuration',
      'mysql client tools',
      'mysql connection',
      'mysql tool version',
      'mysql targets',
      'mysql privileges',
      'postgresql connection',
      'postgresql tool version',
      'postgresql privileges',
      'redis connection',
      'redis tool version',
      'file targets',
      'destination',
      'free space',
      'storage offsite',
      'encryption',
      'catalog',
      'enabled scripts',
    ])
      assert.ok(names.includes(name), `${name} is checked: ${names.join(', ')}`);
    assert.deepEqual(failed(r.lines), []);
    assert.equal(text.stdout.trim().split('\n').length, r.lines.length + 1, 'one line per check, and the summary');
    assert.ok(r.lines.every((l) => l.fix === null));
  });

  it('wrong passwords: each connection fails with its fix, exit 1', async () => {
    const r = await lines(services, { BATT_MYSQL_PASSWORD: `${MARK}-wrong`, BATT_POSTGRESQL_PASSWORD: `${MARK}-wrong`, BATT_REDIS_PASSWORD: `${MARK}-wrong` });
    assert.equal(r.exitCode, 1);
    const bad = failed(r.lines);
    assert.deepEqual(
      bad.map((l) => `${l.service} ${l.check}`),
      ['mysql connection', 'postgresql connection', 'redis connection'],
    );
    assert.match(bad[0].detail, /access denied/i);
    assert.match(bad[0].fix!, /mysql\.password/);
    assert.match(bad[1].detail, /authentication failed/);
    assert.match(bad[1].fix!, /postgresql\.password/);
    assert.match(bad[2].detail, /authentication failed|WRONGPASS/);
    assert.match(bad[2].fix!, /redis\.password/);
    const text = await doctor(services, { BATT_MYSQL_PASSWORD: `${MARK}-wrong` });
    assert.equal(text.exitCode, 1);
    assert.match(text.stdout, /^✗ mysql connection: .*access denied.*\n {4}fix: check mysql\.user and mysql\.password/im);
    assert.match(text.stdout, /^1 of \d+ checks failed$/m);
  });

  it('a missing tool (a PATH without mysqldump): that line fails with what to install, the rest still run', async () => {
    const path = standIns(join(box.dir, 'no-dump'), { mysqldump: '', 'mariadb-dump': '' }, ['mariadb', 'setpriv', 'stdbuf']);
    const r = await lines(['mysql'], { PATH: path });
    assert.equal(r.exitCode, 1);
    const [bad, ...more] = failed(r.lines);
    assert.deepEqual(more, []);
    assert.equal(bad.check, 'client tools');
    assert.match(bad.detail, /mysqldump is not installed or not on PATH/);
    assert.match(bad.fix!, /apt-get install mariadb-client/);
    assert.ok(
      r.lines.some((l) => l.check === 'connection' && l.ok),
      'the client still connects',
    );
  });

  it('a pg_dump older than the server (a stand-in): the tool version fails with the client to install', async () => {
    const path = standIns(join(box.dir, 'old-pg'), { pg_dump: '#!/bin/sh\necho "pg_dump (PostgreSQL) 9.6.24"\n' });
    const r = await lines(['postgresql'], { PATH: path });
    assert.equal(r.exitCode, 1);
    const bad = failed(r.lines);
    assert.equal(bad.length, 1, JSON.stringify(bad));
    assert.equal(bad[0].check, 'tool version');
    assert.match(bad[0].detail, /pg_dump 9 older than the PostgreSQL 1\d server/);
    assert.match(bad[0].fix!, /install postgresql-client-1\d/);
  });

  it('a user short of privileges: the privileges line names what is missing and the GRANT', async () => {
    const r = await lines(['mysql', 'postgresql'], {
      BATT_MYSQL_USER: 'weak',
      BATT_MYSQL_PASSWORD: `${MARK}-weak`,
      BATT_POSTGRESQL_USER: 'weak',
      BATT_POSTGRESQL_PASSWORD: `${MARK}-weak`,
    });
    assert.equal(r.exitCode, 1);
    const bad = failed(r.lines);
    assert.deepEqual(
      bad.map((l) => `${l.service} ${l.check}`),
      ['mysql privileges', 'postgresql privileges'],
    );
    assert.match(bad[0].detail, /weak@127\.0\.0\.1 lacks SHOW VIEW, TRIGGER, EVENT on shop/);
    assert.match(bad[0].fix!, /^GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES ON \*\.\* TO 'weak'@'127\.0\.0\.1'/);
    assert.match(bad[1].detail, /may not read shop: public\.secrets$/);
    assert.match(bad[1].fix!, /pg_read_all_data/);
  });

  it('storage credentials the server refuses fail the storage line', async () => {
    const r = await lines(['file'], {});
    assert.ok(r.lines.some((l) => l.check === 'storage offsite' && l.ok));
    const conf = join(box.dir, 'refused.yaml');
    writeFileSync(
      conf,
      `storage:\n  - { name: offsite, type: s3, bucket: ${s3.bucket}, endpoint: ${JSON.stringify(s3.endpoint)}, force_path_style: true, access_key_id: NOBODY, secret_access_key_file: ${JSON.stringify(join(box.dir, 's3.secret'))} }\n`,
      { mode: 0o600 },
    );
    const refused = await lines(['file', '--config', conf]);
    assert.equal(refused.exitCode, 1);
    const [bad] = failed(refused.lines);
    assert.equal(bad.check, 'storage offsite');
    assert.match(bad.detail, /refused the credentials/);
    assert.ok(bad.fix);
  });

  it('the secret marker appears in no doctor output, text or JSON, passing or failing', () => {
    assert.ok(printed.length >= 10, 'the tests above ran their doctors');
    assert.ok(
      printed.some((p) => p.includes('✗')),
      'failing lines were printed too',
    );
    for (const text of printed) assert.ok(!text.includes(MARK), `a secret was printed:\n${text}`);
  });
});

describe('batt doctor: the home and the destination', () => {
  const box = sandboxFor('each');

  it('a world-writable destination, a damaged catalog and a script without its x bit: a failed line each with its fix, exit 1', async () => {
    const open = join(box.dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    writeFileSync(join(box.home, 'conf', 'batt.config.yaml'), `destination: ${JSON.stringify(join(open, '%Y/{service}'))}\nfile: { paths: [${JSON.stringify(box.dir)}] }\n`, {
      mode: 0o600,
    });
    writeFileSync(join(box.home, 'catalog.db'), 'not a database, not at all: '.repeat(100));
    assert.equal((await box.batt(['enable', 'file'])).exitCode, 0);
    const script = join(box.home, 'scripts-available', 'backup-notes');
    writeFileSync(script, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    assert.equal((await box.batt(['enable', 'notes'])).exitCode, 0);
    chmodSync(script, 0o644);
    const r = await box.batt(['doctor', '--json']);
    assert.equal(r.exitCode, 1, r.stderr);
    const bad = json<Line[]>(r).filter((l) => !l.ok);
    assert.deepEqual(
      bad.map((l) => l.check),
      ['destination', 'catalog', 'enabled scripts'],
    );
    assert.match(bad[0].detail, new RegExp(`${open} is writable by others \\(mode 0777\\)`));
    assert.match(bad[0].fix!, new RegExp(`^chmod go-w ${open}`));
    assert.match(bad[1].detail, /catalog\.db/);
    assert.match(bad[1].fix!, /batt catalog rebuild/);
    assert.match(bad[2].detail, /scripts-enabled\/backup-notes is not executable/);
    assert.equal(bad[2].fix, `chmod +x ${script}`);
    const text = await box.batt(['doctor']);
    assert.match(text.stdout, /^✗ destination: .*\n {4}fix: chmod go-w /m);
    assert.doesNotMatch(text.stdout, /\x1b\[/, 'no colour off a terminal');
  });

  it('after a backup, the free space is weighed against its size from the catalog, which passes quick_check', async () => {
    const data = box.folder('data', { a: 'alpha'.repeat(1000) });
    assert.equal((await box.batt(['--file', data, '-q'])).exitCode, 0);
    const r = json<Line[]>(await box.batt(['doctor', 'file', '--json'], { env: { BATT_FILE_PATHS: data } }));
    assert.deepEqual(
      r.filter((l) => !l.ok),
      [],
    );
    assert.match(r.find((l) => l.check === 'free space')!.detail, /^[\d.]+ \w+ free under .*; the last backups that went there took \d+ B$/);
    assert.match(r.find((l) => l.check === 'catalog')!.detail, /catalog\.db: PRAGMA quick_check ok$/);
  });

  it('an unknown service is a usage error; no service enabled is a failed line', async () => {
    const unknown = await box.batt(['doctor', 'nosuch']);
    assert.equal(unknown.exitCode, 2);
    assert.match(unknown.stderr, /unknown service "nosuch"/);
    const none = json<Line[]>(await box.batt(['doctor', '--json']));
    const bad = none.filter((l) => !l.ok);
    assert.deepEqual(
      bad.map((l) => l.check),
      ['services'],
    );
    assert.match(bad[0].fix!, /batt enable/);
  });
});

// No mongod can be installed here (see mongodb.test.ts): a stand-in mongodump answers as one would.
describe('batt doctor mongodb, against a stand-in mongodump', () => {
  const box = sandboxFor('each');

  it('connects with the probe dump; an authentication error is a failed line with its fix, and the password is not shown', async () => {
    const path = standIns(join(box.dir, 'bin'), {
      mongodump: `#!/bin/sh
if [ "$1" = "--version" ]; then echo "mongodump version: 100.9.4-standin"; exit 0; fi
case "$*" in *--db=batt_doctor_probe_0*) ;; *) echo "not the probe: $*" >&2; exit 2;; esac
[ -n "$FAIL" ] && { echo "Failed: connection() error occurred during connection handshake: auth error: sasl conversation error" >&2; exit 1; }
exit 0
`,
    });
    const env = { PATH: path, BATT_MONGODB_HOST: 'db.example', BATT_MONGODB_USER: 'backup', BATT_MONGODB_PASSWORD: `${MARK}-mongo` };
    const ok = await box.batt(['doctor', 'mongodb', '--json'], { env });
    assert.equal(ok.exitCode, 0, ok.stdout + ok.stderr);
    assert.deepEqual(
      json<Line[]>(ok).map((l) => `${l.service ?? ''} ${l.check} ${l.ok}`),
      [
        ' configuration true',
        ' node true',
        'mongodb client tools true',
        'mongodb connection true',
        'mongodb targets true',
        ' destination true',
        ' free space true',
        ' catalog true',
        ' enabled scripts true',
      ],
    );
    const bad = await box.batt(['doctor', 'mongodb'], { env: { ...env, FAIL: '1' } });
    assert.equal(bad.exitCode, 1);
    assert.match(bad.stdout, /^✗ mongodb connection: mongodb: authentication failed: .*\n {4}fix: check mongodb\.user and mongodb\.password/m);
    for (const r of [ok, bad]) assert.ok(!(r.stdout + r.stderr).includes(MARK));
  });
});
