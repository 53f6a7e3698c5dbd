#!/usr/bin/env node
// `pnpm bench`: every benchmark of the repo, one after the other, then ONE table of their figures:
// each figure, its reference, the ratio, the target (issue 19's, and each script's own) and
// whether it is met. Each script runs as a child process with `--result FILE` (and `--quick`),
// its own output shown as it comes; the scripts also run alone (docs/benchmarks.md).
// Usage: node test/bench/all.mjs [--quick] [--only NAME,NAME...]
//   --quick   small sizes and few rounds: the whole in under 3 minutes on 2 cores
//   --only    some of them: files (files, stream, start-up), keep-local, offsite, mysql,
//             mysql-load, postgresql, catalog, serve, scale-mysql, scale-redis, scale-files,
//             scale-catalog
// Benchmarks are not tests: this exits 0 whether or not the targets are met, and 1 only when a
// benchmark itself crashed. A benchmark whose tools are missing is not run: its rows say why.
// The rows are also kept in .bench/results.jsonl and the table in .bench/results.txt.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cliArgs, formatTable, machineLine, skippedRow } from './results.mjs';

const repo = resolve(import.meta.dirname, '..', '..');
const { values: opts } = parseArgs({ args: cliArgs(), options: { quick: { type: 'boolean' }, only: { type: 'string' } } });
const quick = Boolean(opts.quick);

const onPath = (tool) =>
  (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
/** Why the tools are not there ('' when they are). */
const missing = (...tools) => {
  const gone = tools.filter((t) => !onPath(t));
  return gone.length ? `no ${gone.join(', ')} on PATH` : '';
};
const postgresServer = () => {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base) : [];
  if (!versions.some((v) => existsSync(join(base, v, 'bin', 'postgres')) && existsSync(join(base, v, 'bin', 'initdb'))))
    return `no PostgreSQL server under ${base} (apt-get install postgresql)`;
  if (spawnSync('id', ['-u', 'postgres']).status !== 0) return 'no user postgres to run initdb as';
  return missing('pg_dump', 'psql', 'runuser', 'setpriv', 'zstd');
};

// Each benchmark: its script (and its arguments), what it needs, and the issue's figures it gives
// (the rows shown when it is skipped or crashes; when it runs, its own rows replace them).
const benches = [
  {
    name: 'files',
    script: 'run.mjs',
    needs: () => missing('tar', 'zstd', 'sha256sum'),
    rows: [
      ['files', 'a tree of 40,000 files, 350-500 MB vs tar | zstd -3 -T0 | tee >(sha256sum)', '<= 1.00'],
      ['stream', '500 MiB dump compressed, hashed, placed vs bare zstd -3 -T0 (speed)', '>= 0.95'],
      ['start-up', 'batt --version vs node -e 0', '<= 1.3'],
    ],
  },
  {
    name: 'keep-local',
    script: 'keep-local-rss.mjs',
    needs: () => '',
    rows: [['keep-local', 'peak RSS backing up a 5 GB stream (keep_local: false, to S3)', '<= 150 MB, flat']],
  },
  {
    name: 'offsite',
    script: 'offsite.mjs',
    needs: () => missing('age', 'age-keygen', 'zstd'),
    rows: [
      ['offsite', 'encryption cost: zstd + age vs zstd alone', '<= 1.10'],
      ['offsite', "S3 upload: batt's S3Storage vs lib-storage Upload (rate)", '>= 0.8'],
    ],
  },
  {
    name: 'mysql',
    script: 'mysql.mjs',
    needs: () => missing('mariadbd', 'mariadb-install-db', 'mariadb', 'mysqldump', 'zstd', 'gzip', 'setpriv'),
    rows: [
      ['mysql', '4 databases of 300 MB, batt -j2 vs the serial loop', '<= 0.45'],
      ['mysql', '1 database of 300 MB: batt vs mysqldump | zstd -T0 | tee >(sha256sum)', '<= 1.05'],
      ['mysql', 'fixed cost: a one-row database, batt minus the pipe', '<= 0.15 s'],
    ],
  },
  {
    name: 'mysql-load',
    script: 'mysql-load.mjs',
    needs: () =>
      missing('mariadbd', 'mariadb-install-db', 'mariadb', 'mysqldump', 'zstd', 'setpriv', 'sysbench') ||
      (/^\s*mysql - /m.test(spawnSync('sysbench', ['--help']).stdout.toString()) ? '' : 'sysbench has no mysql driver'),
    rows: [
      ['mysql-load', "sysbench oltp_write_only: tps during batt's dump vs alone", '>= 0.60'],
      ['mysql-load', "transactions the load lost to one backup, batt's vs mysqldump | zstd's", '<= 1.10'],
    ],
  },
  {
    name: 'postgresql',
    script: 'postgresql.mjs',
    needs: postgresServer,
    rows: [
      ['postgresql', '1 database of 300 MB: batt vs pg_dump -Fc -Z0 | zstd -3 -T0 | tee >(sha256sum)', '<= 1.05'],
      ['postgresql', 'fixed cost: a one-row database, batt minus the pipe', ''],
    ],
  },
  {
    name: 'catalog',
    script: 'catalog.mjs',
    needs: () => '',
    rows: [['catalog', 'batt runs --last 50 on 100k runs / 1M items vs node -e 0', '<= 1.5']],
  },
  // Issue 20's scale figures (test/bench/scale.mjs), one part each.
  {
    name: 'scale-mysql',
    script: 'scale.mjs',
    args: ['--part', 'mysql'],
    needs: () => missing('mariadbd', 'mariadb-install-db', 'mariadb', 'mysqldump', 'zstd', 'gzip', 'setpriv'),
    rows: [['scale', "200 small databases, batt -j2 vs matiri's serial loop; fds and RSS flat", '<= 0.60']],
  },
  {
    name: 'scale-redis',
    script: 'scale.mjs',
    args: ['--part', 'redis'],
    needs: () => missing('redis-server', 'redis-cli', 'redis-check-rdb', 'zstd', 'setpriv'),
    rows: [['scale', 'redis of 1,000,000 keys: batt restore vs redis-server loading the RDB', '<= 2.00']],
  },
  {
    name: 'scale-files',
    script: 'scale.mjs',
    args: ['--part', 'files'],
    needs: () => missing('tar', 'zstd', 'sha256sum'),
    rows: [['scale', 'batt --file: 1,000,000 small files vs tar | zstd -3 -T0 | tee >(sha256sum); RSS flat', '<= 1.05']],
  },
  {
    name: 'scale-catalog',
    script: 'scale.mjs',
    args: ['--part', 'catalog'],
    needs: () => '',
    rows: [['scale', 'batt runs and a prune plan on 365k runs', '< 1 s']],
  },
  {
    name: 'serve',
    script: 'serve.mjs',
    needs: () => '',
    rows: [
      ['serve', 'GET /api/overview on 100k runs', '<= 150 ms'],
      ['serve', 'the first runs page on 100k runs', '<= 150 ms'],
      ['serve', 'server peak RSS', '<= 150 MB'],
    ],
  },
];
const only = opts.only ? new Set(opts.only.split(',').map((s) => s.trim())) : null;
if (only) for (const name of only) if (!benches.some((b) => b.name === name)) throw new Error(`--only: no benchmark ${name} (${benches.map((b) => b.name).join(', ')})`);

const bench = join(repo, '.bench');
mkdirSync(bench, { recursive: true });
const resultFile = join(bench, 'results.jsonl');
rmSync(resultFile, { force: true });

const header = `batt benchmarks: ${machineLine(quick)}, ${new Date().toISOString()}`;
console.log(header);
const started = process.hrtime.bigint();
const rows = [];
const took = [];
let crashed = 0;
for (const b of benches) {
  if (only && !only.has(b.name)) continue;
  const why = b.needs();
  if (why) {
    console.log(`\n=== ${b.name}: skipped: ${why}`);
    rows.push(...b.rows.map(([name, what, target]) => skippedRow(name, what, target, why)));
    continue;
  }
  const args = [join(import.meta.dirname, b.script), ...(b.args ?? []), '--result', resultFile, ...(quick ? ['--quick'] : [])];
  console.log(`\n=== ${b.name}: node ${args.map((a) => a.replace(`${repo}/`, '')).join(' ')}`);
  const t = process.hrtime.bigint();
  const before = readRows().length;
  const { code, signal } = await new Promise((done) => {
    const child = spawn(process.execPath, args, { cwd: repo, stdio: 'inherit' });
    child.on('exit', (code, signal) => done({ code, signal }));
  });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  took.push(`${b.name} ${seconds.toFixed(0)} s`);
  const mine = readRows().slice(before);
  if (code !== 0 || mine.length === 0) {
    crashed++;
    const how = code !== 0 ? `crashed (${signal ?? `exit ${code}`}), see its output above` : 'crashed: it gave no figures';
    rows.push(...mine, ...b.rows.map(([name, what, target]) => ({ ...skippedRow(name, what, target, ''), skipped: undefined, crashed: how })));
  } else rows.push(...mine);
}
const total = Number(process.hrtime.bigint() - started) / 1e9;

function readRows() {
  if (!existsSync(resultFile)) return [];
  return readFileSync(resultFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

const count = (f) => rows.filter(f).length;
const lines = [
  header,
  `${took.join(', ')}; ${total.toFixed(0)} s in all`,
  '',
  ...formatTable(rows),
  '',
  `${count((r) => r.met === true)} targets met, ${count((r) => r.met === false)} missed, ${count((r) => r.skipped)} skipped, ${count((r) => r.crashed)} crashed; ${count((r) => r.met === null && !r.skipped && !r.crashed)} rows for information`,
];
writeFileSync(join(bench, 'results.txt'), lines.join('\n') + '\n');
console.log(`\n${'='.repeat(20)} all benchmarks ${'='.repeat(20)}`);
for (const line of lines) console.log(line);
if (crashed) process.exitCode = 1;
