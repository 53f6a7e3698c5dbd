#!/usr/bin/env node
// Scale without surprises (issue 20): batt against the plain tools at sizes where a per-item cost,
// a leak or a slow query would show, in the same run on the same machine.
//   mysql    200 small databases, `batt -j2 --mysql-db` x200 vs matiri's serial loop
//            (test/bench/matiri.mjs)                          target: <= 0.6x the loop's time;
//            batt's open fds and RSS sampled from /proc every 50 ms: the run is ok, the second
//            half's typical (median) fd count, counted from the first dump on, is no higher than
//            the first half's, and its peak RSS is at most 1.10x the first half's
//   redis    1,000,000 keys: `batt restore` into a fresh private redis-server vs a fresh
//            redis-server loading the same RDB itself at start-up (until PING answers PONG)
//                                                             target: <= 2x
//   files    a tree of 1,000,000 small files (10 folders of 100,000), made in a temporary folder
//            and removed at the end: `batt --file` vs `tar -cf - DIR | zstd -3 -T0 | tee
//            >(sha256sum)` (as test/bench/run.mjs)           target: <= 1.05x; batt's peak RSS
//            (VmHWM) on the whole tree vs on one folder of a tenth of it: flat (<= 1.10)
//   catalog  365,000 runs (1,000 a day for a year, 3.65M items; test/bench/catalog-seed.mjs, kept
//            under .bench/scale-catalog): `batt runs`, `batt runs --last 50` and `batt prune
//            --dry-run --keep-daily 7 --keep-weekly 4 --keep-monthly 12`, wall time each
//                                                             target: < 1 s
// Usage: node test/bench/scale.mjs [--part mysql,redis,files,catalog] [--quick] [--result FILE]
//   --quick: 50 databases, 100,000 keys, 100,000 files (10 folders of 10,000), the 100k-run
//   catalog of test/bench/catalog.mjs, 1 round. Exits 0 whether or not the
//   targets are met; the servers are private ones (test/lib/servers.ts), stopped at the end.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { seededCatalog } from './catalog-seed.mjs';
import { benchClient, childRuns, matiriLoop } from './matiri.mjs';
import { cliArgs, median, resultOptions, row, timeRow, writeResults } from './results.mjs';

const repo = resolve(import.meta.dirname, '..', '..');
const { values: opts } = parseArgs({ args: cliArgs(), options: { part: { type: 'string' }, rounds: { type: 'string' }, ...resultOptions } });
const quick = Boolean(opts.quick);
const parts = (opts.part ?? 'mysql,redis,files,catalog').split(',');
const rounds = Number(opts.rounds ?? (quick ? 1 : 3));
const batt = join(repo, 'packages', 'batt', 'bin', 'batt.js');
const servers = join(repo, 'test', 'dist', 'lib', 'servers.js');
const work = join(repo, '.bench', 'scale');
const sec = (s) => `${s.toFixed(2)} s`;
const count = (n) => n.toLocaleString('en');

function time(cmd, args, env = process.env) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e9;
}
const fresh = (name) => {
  const d = join(work, name);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
  return d;
};

/**
 * Runs batt (node and `args`) and samples its /proc every 50 ms: VmRSS, VmHWM and open fds.
 * Returns the wall time, the exit code, stderr, and the peaks of the samples' first and second
 * halves (the last VmHWM read is the peak so far). With `steady` (a word of the dump's command
 * line), the fds are compared from the first sample that saw a dump running: before it, batt
 * starts up with fewer fds open, which would lower the first half's typical count.
 */
async function sampled(args, env = process.env, steady = undefined) {
  const t = process.hrtime.bigint();
  const child = spawn(process.execPath, [batt, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const samples = [];
  let dumping = false;
  const timer = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)[1]);
      const fds = readdirSync(`/proc/${child.pid}/fd`).length;
      dumping ||= steady === undefined || childRuns(child.pid, steady);
      samples.push({ rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024, fds, dumping });
    } catch {}
  }, 50);
  const code = await new Promise((done) => child.on('close', done));
  clearInterval(timer);
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  const half = Math.floor(samples.length / 2);
  const peak = (xs, key) => Math.max(...xs.map((x) => x[key]));
  // No sample saw a dump (too quick for 50 ms): all of them, as before.
  const working = samples.some((x) => x.dumping) ? samples.filter((x) => x.dumping) : samples;
  const workHalf = Math.floor(working.length / 2);
  return {
    s,
    code,
    stderr,
    hwm: samples.length ? samples.at(-1).hwm : NaN,
    rss: [peak(samples.slice(0, half), 'rss'), peak(samples.slice(half), 'rss')],
    fds: [peak(working.slice(0, workHalf), 'fds'), peak(working.slice(workHalf), 'fds')],
    // What a leak raises: the peaks move by a few fds with when a sample falls (an item in flight
    // holds up to 6 more: its temporary file, its dump's pipes).
    typicalFds: [median(working.slice(0, workHalf).map((x) => x.fds)), median(working.slice(workHalf).map((x) => x.fds))],
  };
}

const results = [];

// --- 200 small MySQL databases ---------------------------------------------------------------
async function mysqlPart() {
  const { startMariaDb } = await import(servers);
  const dbs = Array.from({ length: quick ? 50 : 200 }, (_, i) => `s${String(i + 1).padStart(3, '0')}`);
  const rowsPerDb = 1000; // ~330 kB of dump each
  const db = await startMariaDb();
  try {
    console.error(`creating ${dbs.length} databases of ${count(rowsPerDb)} rows ...`);
    for (let i = 0; i < dbs.length; i += 50) {
      await db.sql(
        dbs
          .slice(i, i + 50)
          .map(
            (name) => `CREATE DATABASE ${name}; CREATE TABLE ${name}.events (id BIGINT PRIMARY KEY, kind VARCHAR(20), payload TEXT, created DATETIME) ENGINE=InnoDB;
            INSERT INTO ${name}.events SELECT seq, ELT(1 + seq MOD 5, 'click', 'view', 'buy', 'signup', 'logout'),
              CONCAT(MD5(seq), ' ', SHA1(seq), ' ', REPEAT(CHAR(65 + seq MOD 26), 40), ' ', SHA2(seq, 256)), '2020-01-01' + INTERVAL seq MINUTE FROM ${name}.seq_1_to_${rowsPerDb};`,
          )
          .join('\n'),
      );
    }
    const { cnf, env } = await benchClient(db, work);
    const loop = matiriLoop(cnf, dbs);
    const t = { loop: [], batt: [] };
    let last;
    for (let i = 0; i < rounds; i++) {
      execFileSync('sync');
      t.loop.push(time('bash', ['-c', `O=${fresh('loop')}; ${loop}`], env));
      execFileSync('sync');
      const out = fresh('batt');
      last = await sampled(['--home', join(work, 'home'), '-q', '-j', '2', ...dbs.flatMap((d) => ['--mysql-db', d]), '--path', out], env, '--single-transaction');
      if (last.code !== 0) throw new Error(`batt -j2 over ${dbs.length} databases failed (${last.code}): ${last.stderr}`);
      const made = readdirSync(out, { recursive: true }).filter((f) => f.endsWith('.sql.zst')).length;
      if (made !== dbs.length) throw new Error(`batt -j2 made ${made} artifacts for ${dbs.length} databases`);
      t.batt.push(last.s);
    }
    const [loopS, battS] = [median(t.loop), median(t.batt)];
    console.error(
      `${dbs.length} databases: loop ${sec(loopS)}, batt -j2 ${sec(battS)}; fds ${last.typicalFds.join(' / ')} (peaks ${last.fds.join(' / ')}), RSS ${last.rss.map((m) => m.toFixed(0)).join(' / ')} MiB`,
    );
    const size = `${dbs.length} databases of ${count(rowsPerDb)} rows`;
    results.push(
      timeRow('scale', `${size}, batt -j2 vs matiri's serial loop (mysqldump | gzip; sha256sum)`, { seconds: battS, reference: loopS, ratio: battS / loopS, max: 0.6 }),
      row('scale', `batt's open fds through ${dbs.length} databases (-j2): second half vs first half, typical (peaks ${last.fds.join(' / ')})`, {
        figure: last.typicalFds[1],
        unit: 'fds',
        reference: `${last.typicalFds[0]} fds`,
        target: 'ok run, no growth',
        ok: last.code === 0 && last.typicalFds[1] <= last.typicalFds[0],
      }),
      row('scale', `batt's peak RSS through ${dbs.length} databases (-j2): second half vs first half`, {
        figure: last.rss[1],
        unit: 'MiB',
        reference: `${last.rss[0].toFixed(0)} MiB`,
        ratio: last.rss[1] / last.rss[0],
        target: 'flat (<= 1.10)',
        ok: last.rss[1] / last.rss[0] <= 1.1,
      }),
    );
  } finally {
    await db.stop();
  }
}

// --- a Redis of 1,000,000 keys restored ------------------------------------------------------
/** PING over TCP until PONG (not -LOADING): the time a fresh server takes to answer. */
async function pong(port, deadline = Date.now() + 300_000) {
  for (;;) {
    const answer = await new Promise((done) => {
      const s = connect(port, '127.0.0.1', () => s.write('PING\r\n'));
      s.on('data', (d) => (s.destroy(), done(d.toString())));
      s.on('error', () => done(''));
    });
    if (answer.startsWith('+PONG')) return;
    if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not answer PONG`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function redisPart() {
  const { startRedis, freePort } = await import(servers);
  const keys = quick ? 100_000 : 1_000_000;
  const src = await startRedis();
  const dir = fresh('redis');
  try {
    // One key in ten a hash of three fields, one in ten with a TTL of a day; the rest strings of 40-100 bytes.
    console.error(`loading ${count(keys)} keys ...`);
    const lines = [];
    const resp = (...args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
    for (let i = 0; i < keys; i++) {
      const value = `${i.toString(36)}:${'v'.repeat(40 + (i % 61))}`;
      if (i % 10 === 3) lines.push(resp('HSET', `user:${i}`, 'name', `n${i}`, 'email', `u${i}@example.net`, 'visits', String(i % 977)));
      else if (i % 10 === 7) lines.push(resp('SET', `session:${i}`, value, 'EX', '86400'));
      else lines.push(resp('SET', `key:${i}`, value));
    }
    const load = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(src.port), '--pipe'], { input: lines.join(''), maxBuffer: 16 * 1024 * 1024 });
    if (load.status !== 0) throw new Error(`redis-cli --pipe failed: ${load.stderr}`);
    const home = join(work, 'home');
    const env = { ...process.env, BATT_REDIS_HOST: '127.0.0.1', BATT_REDIS_PORT: String(src.port) };
    time(process.execPath, [batt, '--home', home, '-q', 'redis', '--path', fresh('redis-out')], env);
    await src.stop();
    const artifact = readdirSync(join(work, 'redis-out'), { recursive: true }).find((f) => f.endsWith('.rdb.zst'));
    execFileSync('zstd', ['-d', '-q', '-f', join(work, 'redis-out', artifact), '-o', join(dir, 'dump.rdb')]);
    const rdbMB = Number(execFileSync('stat', ['-c', '%s', join(dir, 'dump.rdb')])) / 1e6;

    const t = { load: [], restore: [] };
    for (let i = 0; i < Math.max(rounds, 3); i++) {
      // The reference: a fresh redis-server loading the RDB itself, until it answers PONG.
      const port = await freePort();
      const t0 = process.hrtime.bigint();
      const server = spawn(
        'setpriv',
        ['--pdeathsig', 'KILL', '--', 'redis-server', '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--dbfilename', 'dump.rdb', '--save', '', '--appendonly', 'no'],
        {
          stdio: 'ignore',
        },
      );
      await pong(port);
      t.load.push(Number(process.hrtime.bigint() - t0) / 1e9);
      server.kill('SIGKILL');
      await new Promise((r) => server.on('close', r));
    }
    for (let i = 0; i < rounds; i++) {
      const into = await startRedis();
      try {
        const s = time(process.execPath, [batt, '--home', home, '-q', 'restore', 'latest', 'redis', '--into', `127.0.0.1:${into.port}`]);
        const size = Number(await into.cli('DBSIZE'));
        if (size !== keys) throw new Error(`batt restore left ${size} keys, not ${keys}`);
        t.restore.push(s);
      } finally {
        await into.stop();
      }
    }
    const [loadS, restoreS] = [median(t.load), median(t.restore)];
    console.error(`redis ${count(keys)} keys, RDB ${rdbMB.toFixed(0)} MB: redis-server load ${sec(loadS)}, batt restore ${sec(restoreS)}`);
    results.push(
      timeRow('scale', `redis of ${count(keys)} keys (RDB ${rdbMB.toFixed(0)} MB): batt restore into a fresh server vs redis-server loading the RDB`, {
        seconds: restoreS,
        reference: loadS,
        ratio: restoreS / loadS,
        max: 2,
      }),
    );
  } finally {
    await src.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

// --- a tree of 1,000,000 small files ---------------------------------------------------------
function makeTree(root, files) {
  // Ten folders of files/10, each in sub-folders of 1,000 files of 100 to 1,600 bytes of text.
  const words = Buffer.from(Array.from({ length: 4096 }, (_, i) => `w${(i * 7919).toString(36)}${i % 13 === 0 ? '\n' : ' '}`).join(''));
  let n = 0;
  for (let p = 0; p < 10; p++) {
    for (let d = 0; d < files / 10 / 1000; d++) {
      const sub = join(root, `p${p}`, `d${d}`);
      mkdirSync(sub, { recursive: true });
      for (let f = 0; f < 1000; f++, n++) {
        const size = 100 + ((n * 7919) % 1500);
        const at = (n * 104729) % (words.length - size);
        writeFileSync(join(sub, `f${f}.txt`), words.subarray(at, at + size));
      }
    }
  }
}

async function filesPart() {
  const files = quick ? 100_000 : 1_000_000;
  const root = mkdtempSync(join(tmpdir(), 'batt-scale-files-'));
  try {
    const t0 = process.hrtime.bigint();
    console.error(`making ${count(files)} files under ${root} ...`);
    makeTree(root, files);
    const du = Number(execFileSync('du', ['-sb', root]).toString().split('\t')[0]);
    console.error(`made in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(0)} s, ${(du / 1e6).toFixed(0)} MB`);
    // Warm the page cache for both alike (through a pipe: tar writing to /dev/null skips reading).
    time('sh', ['-c', `tar -cf - -C / "${root.slice(1)}" | cat > /dev/null`]);
    const out = join(work, 'files-out');
    const home = join(work, 'home');
    const t = { pipe: [], batt: [] };
    let whole;
    for (let i = 0; i < rounds; i++) {
      fresh('files-out');
      t.pipe.push(time('bash', ['-c', `tar -cf - -C / "${root.slice(1)}" | zstd -3 -T0 -q | tee >(sha256sum > "${out}/sum") > "${out}/tree.tar.zst"; wait`]));
      fresh('files-out');
      whole = await sampled(['--home', home, '-q', '--file', root, '--path', out]);
      if (whole.code !== 0) throw new Error(`batt --file ${root} failed (${whole.code}): ${whole.stderr}`);
      t.batt.push(whole.s);
    }
    fresh('files-out');
    const tenth = await sampled(['--home', home, '-q', '--file', join(root, 'p0'), '--path', out]);
    if (tenth.code !== 0) throw new Error(`batt --file ${root}/p0 failed (${tenth.code}): ${tenth.stderr}`);
    rmSync(out, { recursive: true, force: true });
    const [pipeS, battS] = [median(t.pipe), median(t.batt)];
    console.error(`${count(files)} files: pipe ${sec(pipeS)}, batt ${sec(battS)}; batt's VmHWM ${whole.hwm.toFixed(0)} MiB, on a tenth ${tenth.hwm.toFixed(0)} MiB`);
    results.push(
      timeRow('scale', `batt --file: ${count(files)} small files, ${(du / 1e6).toFixed(0)} MB vs tar | zstd -3 -T0 | tee >(sha256sum)`, {
        seconds: battS,
        reference: pipeS,
        ratio: battS / pipeS,
        max: 1.05,
      }),
      row('scale', `batt's peak RSS (VmHWM) backing up ${count(files)} files vs ${count(files / 10)}`, {
        figure: whole.hwm,
        unit: 'MiB',
        reference: `${tenth.hwm.toFixed(0)} MiB`,
        ratio: whole.hwm / tenth.hwm,
        target: 'flat (<= 1.10)',
        ok: whole.hwm / tenth.hwm <= 1.1,
      }),
    );
  } finally {
    execFileSync('rm', ['-rf', root]); // faster than rmSync on a million files
  }
}

// --- 365,000 runs in the catalog -------------------------------------------------------------
async function catalogPart() {
  // --quick: the 100k-run catalog test/bench/catalog.mjs seeds (made once, reused).
  const { home } = quick ? seededCatalog(join(repo, '.bench', 'catalog')) : seededCatalog(join(repo, '.bench', 'scale-catalog'), undefined, { runs: 365_000, stepMs: 86_400 });
  const size = quick ? '100k runs (--quick; full: 365k)' : '365k runs (1,000 a day for a year), 3.65M items';
  const run = (args) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [batt, '--home', home, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`batt ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    return { s: Number(process.hrtime.bigint() - t0) / 1e9, stdout: r.stdout };
  };
  run(['runs']); // warm the page cache
  const n = quick ? 3 : 5;
  const t = { runs: [], last: [], prune: [], plan: [] };
  for (let i = 0; i < n; i++) {
    t.runs.push(run(['runs']).s);
    t.last.push(run(['runs', '--last', '50']).s);
  }
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    const r = run(['prune', '--dry-run', '--keep-daily', '7', '--keep-weekly', '4', '--keep-monthly', '12']);
    t.prune.push(r.s);
    t.plan.push(Number(/planned in ([\d.]+)s\s*$/.exec(r.stdout)?.[1]) * 1000);
  }
  const wall = (what, xs, reference = '') => row('scale', what, { figure: median(xs), unit: 's', reference, target: '< 1 s', ok: median(xs) < 1 });
  console.error(`catalog ${size}: runs ${sec(median(t.runs))}, --last 50 ${sec(median(t.last))}, prune --dry-run ${sec(median(t.prune))} (plan ${median(t.plan).toFixed(0)} ms)`);
  results.push(
    wall(`batt runs (20 newest) on ${size}`, t.runs),
    wall(`batt runs --last 50 on ${size}`, t.last),
    wall(`batt prune --dry-run --keep-daily 7 --keep-weekly 4 --keep-monthly 12 on ${size}: wall`, t.prune, `plan ${median(t.plan).toFixed(0)} ms`),
  );
}

mkdirSync(work, { recursive: true });
try {
  for (const [name, part] of [
    ['mysql', mysqlPart],
    ['redis', redisPart],
    ['files', filesPart],
    ['catalog', catalogPart],
  ]) {
    if (parts.includes(name)) await part();
  }
} finally {
  writeResults(opts.result, results);
  console.log(JSON.stringify(results, null, 2));
  rmSync(work, { recursive: true, force: true });
}
