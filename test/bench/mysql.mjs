#!/usr/bin/env node
// batt's mysql service against matiri's serial shell loop, in the same run on one private
// MariaDB started here (seed 000: `mysqldump --single-transaction db | gzip > f; sha256sum f`
// per database, one after the other).
//   1. batt --mysql-db ×4 with -j2        vs the serial loop    target: <= 0.45x the loop's time
//   2. one database: batt vs mysqldump | zstd -T0 | tee >(sha256sum) (the SHA-256 batt also
//      takes)                                                    target: <= 1.05x
//      and vs the same pipe without the SHA-256                  target: no slower (<= 1.0x)
//   3. the fixed cost: a one-row database, batt minus that pipe  target: <= 0.15 s
//   4. batt's memory while it dumps the large database, sampled every 100 ms: the peak of the
//      second half of the dump against the first half (flat: <= 1.10), and the peak against a
//      database 20x smaller
// Usage: node test/bench/mysql.mjs [--mb-per-db N] [--rounds N] [--quick] [--result FILE]
//   (default 300 MB x 4, 3 rounds: the "a few hundred MB"; batt's fixed start-up weighs
//   more on smaller databases. --quick: 30 MB x 4, 1 round. --result FILE: also append the
//   figures to FILE as JSON lines, for test/bench/all.mjs.) Exits 0 whether or not targets are met.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { benchClient, childRuns, matiriLoop } from './matiri.mjs';
import { cliArgs, resultOptions, row, timeRow, writeResults } from './results.mjs';

const repo = resolve(import.meta.dirname, '..', '..');
const { values: opts } = parseArgs({ args: cliArgs(), options: { 'mb-per-db': { type: 'string' }, rounds: { type: 'string' }, ...resultOptions } });
const quick = Boolean(opts.quick);
const mbPerDb = Number(opts['mb-per-db'] ?? (quick ? 30 : 300));
const rounds = Number(opts.rounds ?? (quick ? 1 : 3));
// The one-row database costs little per round: more rounds, for a steadier difference.
const tinyRounds = Math.max(rounds, 5);
const { startMariaDb } = await import(join(repo, 'test', 'dist', 'lib', 'servers.js'));
const batt = join(repo, 'packages', 'batt', 'bin', 'batt.js');
const work = join(repo, '.bench', 'mysql');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const db = await startMariaDb();
try {
  const dbs = ['db1', 'db2', 'db3', 'db4'];
  console.error(`generating ${dbs.length} databases of ~${mbPerDb} MB ...`);
  const rowsPerDb = Math.round((mbPerDb * 1e6) / 330); // ~330 bytes of dump per row
  for (const name of [...dbs, 'small', 'tiny']) {
    const rows = name === 'tiny' ? 1 : name === 'small' ? Math.round(rowsPerDb / 20) : rowsPerDb;
    await db.sql(`CREATE DATABASE ${name}`);
    await db.sql(
      `CREATE TABLE ${name}.events (id BIGINT PRIMARY KEY, user_id INT, kind VARCHAR(20), payload TEXT, amount DECIMAL(12,2), created DATETIME) ENGINE=InnoDB;
      SET SESSION max_recursive_iterations = 0;
      INSERT INTO ${name}.events SELECT seq, seq MOD 9973, ELT(1 + seq MOD 5, 'click', 'view', 'buy', 'signup', 'logout'),
        CONCAT(MD5(seq), ' ', SHA1(seq), ' ', REPEAT(CHAR(65 + seq MOD 26), 40), ' ', MD5(seq * 7), ' ', SHA2(seq, 256)),
        (seq MOD 100000) / 100, '2020-01-01' + INTERVAL (seq MOD 31536000) SECOND FROM seq_1_to_${rows};`,
      name,
    );
  }
  const { cnf, env } = await benchClient(db, work);
  const time = (cmd, args) => {
    // Each command starts with the earlier ones' files on disk: batt fsyncs what it writes, and
    // under ext4's ordered mode that would make it pay for writing out the plain pipes' files too.
    execFileSync('sync');
    const t = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
    return Number(process.hrtime.bigint() - t) / 1e9;
  };
  const rss = (args) => {
    const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, batt, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    return Number(r.stderr.toString().trim().split('\n').at(-1)) / 1024;
  };
  // RSS sampled from /proc while batt dumps: [peak of the first half, peak of the second half].
  const rssHalves = async (args) => {
    const child = spawn(process.execPath, [batt, ...args], { env, stdio: 'ignore' });
    const samples = [];
    // From the first sample that sees the dump running: batt's start-up is no part of the dump.
    let dumping = false;
    const timer = setInterval(() => {
      try {
        const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) / 1024;
        dumping ||= childRuns(child.pid, '--single-transaction');
        samples.push({ rss, dumping });
      } catch {}
    }, 100);
    await new Promise((r) => child.on('close', r));
    clearInterval(timer);
    // No sample saw the dump (too quick for 100 ms): all of them, as before.
    const working = (samples.some((x) => x.dumping) ? samples.filter((x) => x.dumping) : samples).map((x) => x.rss);
    const half = Math.floor(working.length / 2);
    return [Math.max(...working.slice(0, half)), Math.max(...working.slice(half))];
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const out = (n) => {
    const d = join(work, `out${n}`);
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d);
    return d;
  };
  const loop = matiriLoop(cnf, dbs);
  const t = { loop: [], batt: [], pipe1: [], sum1: [], batt1: [], pipeTiny: [], battTiny: [] };
  for (let i = 0; i < rounds; i++) {
    const o1 = out(1);
    t.loop.push(time('bash', ['-c', `O=${o1}; ${loop}`]));
    t.batt.push(time(process.execPath, [batt, '--home', join(work, 'home'), '-q', '-j', '2', ...dbs.flatMap((d) => ['--mysql-db', d]), '--path', out(2)]));
    const o3 = out(3);
    t.pipe1.push(time('bash', ['-c', `mysqldump --defaults-file=${cnf} --single-transaction db1 | zstd -3 -T0 -q > ${o3}/db1.sql.zst`]));
    t.sum1.push(time('bash', ['-c', `mysqldump --defaults-file=${cnf} --single-transaction db1 | zstd -3 -T0 -q | tee ${o3}/db1.sql.zst | sha256sum > /dev/null`]));
    t.batt1.push(time(process.execPath, [batt, '--home', join(work, 'home'), '-q', '--mysql-db', 'db1', '--path', out(4)]));
  }
  // What does not grow with the database: a one-row database, through the pipe (with its SHA-256,
  // as batt takes one) and through batt.
  for (let i = 0; i < tinyRounds; i++) {
    t.pipeTiny.push(time('bash', ['-c', `mysqldump --defaults-file=${cnf} --single-transaction tiny | zstd -3 -T0 -q | tee ${out(9)}/tiny.sql.zst | sha256sum > /dev/null`]));
    t.battTiny.push(time(process.execPath, [batt, '--home', join(work, 'home'), '-q', '--mysql-db', 'tiny', '--path', out(8)]));
  }
  const memSmall = rss(['--home', join(work, 'home'), '-q', '--mysql-db', 'small', '--path', out(5)]);
  const memLarge = rss(['--home', join(work, 'home'), '-q', '--mysql-db', 'db1', '--path', out(6)]);
  const [firstHalf, secondHalf] = await rssHalves(['--home', join(work, 'home'), '-q', '--mysql-db', 'db1', '--path', out(7)]);
  const size = Number(
    execFileSync('du', ['-sb', join(work, 'out3')])
      .toString()
      .split('\t')[0],
  );
  const result = {
    databases: dbs.length,
    mb_per_db: mbPerDb,
    rows_per_db: rowsPerDb,
    rounds,
    quick,
    four_dbs: { serial_loop_s: median(t.loop), batt_j2_s: median(t.batt), ratio: median(t.batt) / median(t.loop), target: '<= 0.45' },
    one_db: {
      mysqldump_zstd_s: median(t.pipe1),
      batt_s: median(t.batt1),
      ratio: median(t.batt1) / median(t.pipe1),
      target: '<= 1.0',
      compressed_bytes: size,
      with_sha256: { mysqldump_zstd_tee_sha256sum_s: median(t.sum1), ratio: median(t.batt1) / median(t.sum1), target: '<= 1.05' },
      fixed_cost: {
        rounds: tinyRounds,
        one_row_db_pipe_with_sha256_s: median(t.pipeTiny),
        one_row_db_batt_s: median(t.battTiny),
        batt_minus_pipe_s: median(t.battTiny) - median(t.pipeTiny),
        target: '<= 0.15',
      },
    },
    memory_mib: {
      during_large_dump: { first_half_peak: firstHalf, second_half_peak: secondHalf, ratio: secondHalf / firstHalf, target: 'flat (<= 1.10)' },
      small_db: memSmall,
      large_db: memLarge,
      large_vs_small: memLarge / memSmall,
    },
  };
  console.log(JSON.stringify(result, null, 2));

  const { four_dbs: four, one_db: one, memory_mib: mem } = result;
  const sec = (s) => `${s.toFixed(2)} s`;
  const dbSize = `${mbPerDb} MB`;
  writeResults(opts.result, [
    timeRow('mysql', `4 databases of ${dbSize}, batt -j2 vs matiri's serial loop (mysqldump | gzip; sha256sum)`, {
      seconds: four.batt_j2_s,
      reference: four.serial_loop_s,
      ratio: four.ratio,
      max: 0.45,
    }),
    timeRow('mysql', `1 database of ${dbSize}: batt vs mysqldump | zstd -T0 | tee >(sha256sum)`, {
      seconds: one.batt_s,
      reference: one.with_sha256.mysqldump_zstd_tee_sha256sum_s,
      ratio: one.with_sha256.ratio,
      max: 1.05,
    }),
    timeRow('mysql', `1 database of ${dbSize}: batt vs mysqldump | zstd -T0 (no SHA-256)`, { seconds: one.batt_s, reference: one.mysqldump_zstd_s, ratio: one.ratio, max: 1 }),
    row('mysql', `fixed cost: a one-row database, batt minus the pipe (batt ${sec(one.fixed_cost.one_row_db_batt_s)})`, {
      figure: one.fixed_cost.batt_minus_pipe_s,
      unit: 's',
      reference: sec(one.fixed_cost.one_row_db_pipe_with_sha256_s),
      target: '<= 0.15 s',
      ok: one.fixed_cost.batt_minus_pipe_s <= 0.15,
    }),
    row('mysql', `batt's peak RSS dumping ${dbSize}: second half of the dump vs first half`, {
      figure: mem.during_large_dump.second_half_peak,
      unit: 'MiB',
      reference: `${mem.during_large_dump.first_half_peak.toFixed(0)} MiB`,
      ratio: mem.during_large_dump.ratio,
      target: 'flat (<= 1.10)',
      ok: mem.during_large_dump.ratio <= 1.1,
    }),
    row('mysql', `batt's peak RSS: ${dbSize} database vs one 20x smaller`, {
      figure: mem.large_db,
      unit: 'MiB',
      reference: `${mem.small_db.toFixed(0)} MiB`,
      ratio: mem.large_vs_small,
    }),
  ]);
} finally {
  await db.stop();
  rmSync(work, { recursive: true, force: true });
}
