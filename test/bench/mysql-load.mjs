#!/usr/bin/env node
// What a backup costs a database under load: sysbench oltp_write_only writes to a private
// MariaDB (binlog on, as on a server kept for point-in-time recovery) with two threads for the
// whole benchmark, and its throughput is counted in windows: alone, during `batt --mysql-db
// sbtest`, alone again, during the plain `mysqldump --single-transaction sbtest | zstd -3 -T0`,
// round after round. The transactions are counted by the server (the binlog's GTID sequence), not
// by sysbench, so each window is exactly the dump's own.
//   1. tps during batt's dump vs tps alone                           target: >= 0.60
//   2. tps during the plain pipe vs tps alone                        for information
//   3. transactions the load lost to one backup, (tps alone - tps during) x the dump's seconds:
//      batt vs the plain pipe (a slower dump lowers the tps less, for longer: this weighs both)
//                                                                    target: <= 1.10
// Usage: node test/bench/mysql-load.mjs [--rows-per-table N] [--rounds N] [--quick] [--result FILE]
//   (default 4 tables of 500,000 rows; --quick: 4 x 50,000; 3 rounds, medians.) Exits 0 whether
//   or not targets are met.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cliArgs, median, resultOptions, row, writeResults } from './results.mjs';

const repo = resolve(import.meta.dirname, '..', '..');
const { values: opts } = parseArgs({ args: cliArgs(), options: { 'rows-per-table': { type: 'string' }, rounds: { type: 'string' }, ...resultOptions } });
const quick = Boolean(opts.quick);
const rowsPerTable = Number(opts['rows-per-table'] ?? (quick ? 50_000 : 500_000));
const rounds = Number(opts.rounds ?? 3);
const { startMariaDb } = await import(join(repo, 'test', 'dist', 'lib', 'servers.js'));
const batt = join(repo, 'packages', 'batt', 'bin', 'batt.js');
const work = join(repo, '.bench', 'mysql-load');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

// A buffer pool that holds the tables (the harness's 64M does not at full size): the load is then
// CPU-bound, as on a server sized for its data, not waiting on reads.
const db = await startMariaDb({ args: ['--log-bin=binlog', '--server-id=1', '--binlog-format=ROW', '--innodb-buffer-pool-size=1G'] });
let load;
try {
  await db.sql(`CREATE USER 'bench'@'127.0.0.1' IDENTIFIED BY 'bench-pw'; GRANT ALL ON *.* TO 'bench'@'127.0.0.1'; CREATE DATABASE sbtest`);
  const sysbench = ['oltp_write_only', '--db-driver=mysql', '--mysql-host=127.0.0.1', `--mysql-port=${db.port}`, '--mysql-user=bench', '--mysql-password=bench-pw'];
  sysbench.push('--mysql-db=sbtest', '--tables=4', `--table-size=${rowsPerTable}`);
  console.error(`sysbench prepare: 4 tables of ${rowsPerTable} rows ...`);
  execFileSync('sysbench', [...sysbench, 'prepare'], { stdio: 'ignore' });
  const cnf = join(work, 'client.cnf');
  execFileSync('sh', ['-c', `printf '[client]\\nuser=bench\\npassword=bench-pw\\nhost=127.0.0.1\\nport=${db.port}\\n' > ${cnf}; chmod 600 ${cnf}`]);
  const env = { ...process.env, BATT_MYSQL_HOST: '127.0.0.1', BATT_MYSQL_PORT: String(db.port), BATT_MYSQL_USER: 'bench', BATT_MYSQL_PASSWORD: 'bench-pw' };

  const committed = async () => Number((await db.sql('SELECT @@gtid_binlog_pos')).split('-')[2]);
  /** Runs `work` (a promise maker) and returns [transactions per second meanwhile, seconds]. */
  const during = async (work) => {
    const [n, t] = [await committed(), process.hrtime.bigint()];
    await work();
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    return [((await committed()) - n) / seconds, seconds];
  };
  const run = (cmd, args) =>
    new Promise((done, fail) => {
      const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => (code === 0 ? done() : fail(new Error(`${cmd} ${args.join(' ')}: exit ${code}: ${stderr}`))));
    });
  const out = (n) => {
    const d = join(work, `out${n}`);
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d);
    return d;
  };
  const battDump = () => run(process.execPath, [batt, '--home', join(work, 'home'), '-q', '--mysql-db', 'sbtest', '--path', out(1)]);
  const pipeDump = () => run('bash', ['-o', 'pipefail', '-c', `mysqldump --defaults-file=${cnf} --single-transaction sbtest | zstd -3 -T0 -q > ${out(2)}/sbtest.sql.zst`]);

  // Tied to this process: a crashed benchmark leaves no sysbench behind.
  load = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'sysbench', ...sysbench, '--threads=2', '--time=0', 'run'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 2000)); // warm up
  const t = { alone: [], batt: [], pipe: [], battS: [], pipeS: [] };
  for (let i = 0; i < rounds; i++) {
    // Each dump follows a window alone as long as its last run (2 s with --quick), so a drift of
    // the machine's other work weighs on both alike.
    const window = (s) => () => new Promise((r) => setTimeout(r, (quick ? 2 : s) * 1000));
    t.alone.push((await during(window(t.battS.at(-1) ?? 3)))[0]);
    const [b, bs] = await during(battDump);
    t.batt.push(b);
    t.battS.push(bs);
    t.alone.push((await during(window(t.pipeS.at(-1) ?? 3)))[0]);
    const [p, ps] = await during(pipeDump);
    t.pipe.push(p);
    t.pipeS.push(ps);
    console.error(
      `round ${i + 1}: alone ${t.alone.at(-2).toFixed(0)} tps, batt ${b.toFixed(0)} tps (${bs.toFixed(1)} s), alone ${t.alone.at(-1).toFixed(0)} tps, pipe ${p.toFixed(0)} tps (${ps.toFixed(1)} s)`,
    );
  }
  const alone = median(t.alone);
  const [withBatt, withPipe] = [median(t.batt), median(t.pipe)];
  const size = Number(
    execFileSync('du', ['-sb', join(work, 'out2')])
      .toString()
      .split('\t')[0],
  );
  const result = {
    tables: 4,
    rows_per_table: rowsPerTable,
    compressed_bytes: size,
    rounds,
    quick,
    tps: { alone, during_batt: withBatt, during_pipe: withPipe, rounds: t },
    seconds: { batt: median(t.battS), pipe: median(t.pipeS) },
    ratios: { batt_vs_alone: withBatt / alone, pipe_vs_alone: withPipe / alone, batt_vs_pipe: withBatt / withPipe },
    // What the load lost to one backup: (tps alone - tps during) x the dump's seconds. A slower
    // dump lowers the tps less but for longer; this weighs both.
    lost_transactions: { batt: (alone - withBatt) * median(t.battS), pipe: (alone - withPipe) * median(t.pipeS) },
  };
  console.log(JSON.stringify(result, null, 2));

  const data = `4 x ${rowsPerTable.toLocaleString('en')} rows (${(size / 1e6).toFixed(0)} MB .zst)`;
  const tps = (x) => `${x.toFixed(0)} tps`;
  writeResults(opts.result, [
    row('mysql-load', `sysbench oltp_write_only, 2 threads: tps during batt's dump of ${data} (${result.seconds.batt.toFixed(1)} s) vs alone`, {
      figure: withBatt,
      unit: 'tps',
      reference: tps(alone),
      ratio: result.ratios.batt_vs_alone,
      target: '>= 0.60',
      ok: result.ratios.batt_vs_alone >= 0.6,
    }),
    row('mysql-load', `the same: tps during mysqldump --single-transaction | zstd -3 -T0 (${result.seconds.pipe.toFixed(1)} s) vs alone`, {
      figure: withPipe,
      unit: 'tps',
      reference: tps(alone),
      ratio: result.ratios.pipe_vs_alone,
    }),
    row('mysql-load', "the same: transactions the load lost to one backup, batt's vs the pipe's", {
      figure: result.lost_transactions.batt,
      unit: 'tx',
      reference: `${result.lost_transactions.pipe.toFixed(0)} tx`,
      ratio: result.lost_transactions.batt / result.lost_transactions.pipe,
      target: '<= 1.10',
      ok: result.lost_transactions.batt / result.lost_transactions.pipe <= 1.1,
    }),
  ]);
} finally {
  load?.kill('SIGKILL');
  await db.stop();
  rmSync(work, { recursive: true, force: true });
}
