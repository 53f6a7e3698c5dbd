/**
 * A backup under a steady write load. sysbench's oltp_write_only writes to four tables for the
 * whole of batt's dump; the dump must be ok and hold the database as it was at one moment.
 *
 * How that moment is checked: the source writes a binlog (ROW format), and batt records in the
 * item's facts the binlog position of the dump's own snapshot (`--master-data=2`, which MariaDB
 * reads from that very snapshot). A second server holds a copy of the data taken while nothing
 * wrote, at a known binlog position; replaying the binlog onto that copy up to the recorded
 * position makes it the source as it was at that position, exactly. The restored backup must
 * equal it, table by table (CHECKSUM TABLE and row counts).
 *
 * Replaying from the recorded position onto the restored backup instead would not do: row events
 * find rows by primary key and write whole images, so replaying a change the dump already holds
 * changes nothing, and a dump taken without a snapshot passes (tried: it did). The last test takes
 * such a dump under the same load and sees this check fail.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import { json, sandboxFor } from '../lib/batt.js';
import { startMariaDb, type MariaDb } from '../lib/servers.js';

const TABLES = ['sbtest1', 'sbtest2', 'sbtest3', 'sbtest4'];

describe('mysql: a backup under a steady write load (sysbench oltp_write_only)', () => {
  let source: MariaDb;
  let copy: MariaDb;
  const box = sandboxFor('all');
  let sysbench: string[];
  /** Where in the source's binlog the copy's sbtest stands. */
  let copyAt: { file: string; position: number };
  before(async () => {
    // The binlog in the data folder, where the test reads it.
    source = await startMariaDb({ args: ['--log-bin=binlog', '--server-id=1', '--binlog-format=ROW'] });
    copy = await startMariaDb();
    // batt's user has only the privileges docs/services/mysql.md asks for: recording the binlog
    // position must need no more (no FLUSH TABLES WITH READ LOCK, no RELOAD).
    await source.user('batt', 'load-pw', 'SELECT, SHOW VIEW, TRIGGER, LOCK TABLES, EVENT');
    await source.sql(`CREATE USER 'sb'@'127.0.0.1' IDENTIFIED BY 'sb-pw'; GRANT ALL ON sbtest.* TO 'sb'@'127.0.0.1'; CREATE DATABASE sbtest`);
    await copy.user('batt', 'load-pw');
    // TCP with a password: the same way in whatever client library sysbench was built with.
    sysbench = ['oltp_write_only', '--db-driver=mysql', '--mysql-host=127.0.0.1', `--mysql-port=${source.port}`, '--mysql-user=sb', '--mysql-password=sb-pw'];
    sysbench.push('--mysql-db=sbtest', `--tables=${TABLES.length}`, '--table-size=50000');
    await execa('sysbench', [...sysbench, 'prepare']);
    // The copy: sbtest while nothing writes, and the binlog position it stands at.
    const [file, position] = (await source.sql('SHOW MASTER STATUS')).split('\t');
    copyAt = { file, position: Number(position) };
    await copy.sql('CREATE DATABASE sbtest');
    const dump = `mariadb-dump --no-defaults -uroot --socket="$0" sbtest | mariadb --no-defaults -uroot --socket="$1" sbtest`;
    await execa('bash', ['-o', 'pipefail', '-c', dump, source.socket, copy.socket]);
  });
  after(async () => {
    await Promise.all([source?.stop(), copy?.stop()]);
  });

  const gtidSeq = (gtid: string): number => Number(gtid.split('-')[2]);
  const binlogGtid = async (): Promise<number> => gtidSeq(await source.sql('SELECT @@gtid_binlog_pos'));

  /** sysbench writing with two threads until `stop()`, which waits until its sessions are gone. */
  async function load(): Promise<{ running(): boolean; stop(): Promise<void> }> {
    const start = await binlogGtid();
    // Tied to this process: a killed test leaves no sysbench behind.
    const child: ResultPromise = execa('setpriv', ['--pdeathsig', 'KILL', '--', 'sysbench', ...sysbench, '--threads=2', '--time=0', 'run'], { reject: false });
    let ended = false;
    void child.finally(() => (ended = true));
    while ((await binlogGtid()) < start + 200) {
      if (ended) assert.fail(`sysbench ended before it wrote: ${String((await child).stderr)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return {
      running: () => !ended,
      async stop() {
        child.kill('SIGKILL');
        await child;
        while ((await source.sql("SELECT COUNT(*) FROM information_schema.processlist WHERE user = 'sb'")) !== '0') await new Promise((r) => setTimeout(r, 50));
      },
    };
  }

  /** CHECKSUM TABLE and COUNT(*) of every table of `database`, as `table checksum` and `table count` lines. */
  const tableSums = async (db: MariaDb, database: string): Promise<string> =>
    (await db.sql(`CHECKSUM TABLE ${TABLES.join(', ')}; ${TABLES.map((t) => `SELECT '${t}', COUNT(*) FROM ${t}`).join('; ')}`, database))
      .split('\n')
      .map((line) => line.replace(`${database}.`, ''))
      .join('\n');

  /** Replays the source's binlog onto the copy's sbtest, from where it is up to `file`:`position`: it is then the source as it was there. */
  async function copyUpTo(file: string, position: number): Promise<void> {
    const logs = (await source.sql('SHOW BINARY LOGS')).split('\n').map((line) => line.split('\t')[0]);
    const files = logs.filter((f) => f >= copyAt.file && f <= file).map((f) => join(source.dir, 'data', f));
    const replay = 'mariadb-binlog --start-position="$1" --stop-position="$2" "${@:3}" | mariadb --no-defaults -uroot --socket="$0"';
    await execa('bash', ['-o', 'pipefail', '-c', replay, copy.socket, String(copyAt.position), String(position), ...files]);
    copyAt = { file, position };
  }

  it('a backup taken while sysbench writes is ok, and its restore, with the binlog replayed from the position it records, equals the source', async () => {
    const env = { BATT_MYSQL_HOST: '127.0.0.1', BATT_MYSQL_PORT: String(source.port), BATT_MYSQL_USER: 'batt', BATT_MYSQL_PASSWORD: 'load-pw' };
    const writes = await load();
    const before = await binlogGtid();
    const r = await box.batt(['--mysql-db', 'sbtest', '--json'], { env });
    const afterwards = await binlogGtid();
    assert.ok(writes.running(), 'the load ran for the whole backup');
    await writes.stop();
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    const id = String(json(r).id);
    const item = json(await box.batt(['show', id, '--json'])).items[0];
    assert.equal(item.status, 'ok');
    assert.equal(item.facts.consistency, 'single-transaction');
    const { file, position, gtid } = item.facts.binlog;
    assert.match(file, /^binlog\.\d+$/);
    // The snapshot fell inside the load, with many writes on either side of it during the dump.
    assert.ok(before + 100 < gtidSeq(gtid) && gtidSeq(gtid) + 100 < afterwards, `snapshot at ${gtid}, load from ${before} to ${afterwards}`);

    const restored = await box.batt(['restore', id, 'mysql', '--target', 'sbtest', '--into', 'restored'], { env: { ...env, BATT_MYSQL_PORT: String(copy.port) } });
    assert.equal(restored.exitCode, 0, restored.stderr + restored.stdout);
    await copyUpTo(file, position);
    assert.equal(await tableSums(copy, 'restored'), await tableSums(copy, 'sbtest'), 'the backup is the source at its binlog position');
    assert.notEqual(await tableSums(copy, 'sbtest'), await tableSums(source, 'sbtest'), 'the load went on writing after the snapshot');
  });

  it('the same check fails for a dump taken under the load with neither a transaction nor locks', async () => {
    const writes = await load();
    // The position just before the dump: the moment such a dump would claim.
    const [file, position] = (await source.sql('SHOW MASTER STATUS')).split('\t');
    const dump = join(box.dir, 'unlocked.sql');
    await execa('mariadb-dump', ['--no-defaults', '-uroot', `--socket=${source.socket}`, '--skip-lock-tables', '--skip-single-transaction', `--result-file=${dump}`, 'sbtest']);
    assert.ok(writes.running(), 'the load ran for the whole dump');
    await writes.stop();
    await copy.sql('CREATE DATABASE unlocked');
    await execa('mariadb', ['--no-defaults', '-uroot', `--socket=${copy.socket}`, 'unlocked'], { input: readFileSync(dump) });
    await copyUpTo(file, Number(position));
    assert.notEqual(await tableSums(copy, 'unlocked'), await tableSums(copy, 'sbtest'));
  });
});
