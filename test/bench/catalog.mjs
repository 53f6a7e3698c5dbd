#!/usr/bin/env node
// batt's catalog commands on a big catalog (100,000 runs, 1,000,000 items, a few thousand
// checks), measured in the same run on the same machine:
//   1. `batt runs --last 50` (and `--json`) vs `node -e 0`        target: <= 2.2x
//      (also on an empty catalog, which shows start-up alone)
//   2. `batt prune --dry-run --keep-daily 7 --keep-weekly 4 --keep-monthly 12`
//      target: the plan ("planned in …s" on its last line) under 1 s; the whole command's
//      wall time is shown beside it
//   3. no index on items.sha256 (the issue rules one out; checked in sqlite_master)
// Usage: node test/bench/catalog.mjs [--workdir DIR] [--rounds N]
// The catalog is seeded once under the work dir (default: .bench/catalog in the repo) and
// reused while its .done marker is there; delete the folder to seed again. batt creates the
// catalog (its drizzle migrations), then better-sqlite3 bulk-inserts in one transaction.
// Prints a table; exits 0 whether or not the targets are met.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const repo = resolve(import.meta.dirname, '..', '..');
const { values: opts } = parseArgs({ options: { workdir: { type: 'string' }, rounds: { type: 'string' } } });
const work = resolve(opts.workdir ?? join(repo, '.bench', 'catalog'));
const rounds = Number(opts.rounds ?? 9);
const batt = join(repo, 'packages', 'batt', 'bin', 'batt.js');
const Database = createRequire(join(repo, 'packages', 'core', 'package.json'))('better-sqlite3');
const home = join(work, 'home');
const emptyHome = join(work, 'empty-home');
const catalog = join(home, 'catalog.db');
const RUNS = 100_000;
const BASE = Date.parse('2026-11-22T00:00:00Z'); // the newest run starts here, one run an hour before it
mkdirSync(work, { recursive: true });

function run(args, { check = true } = {}) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  if (check && r.status !== 0) throw new Error(`node ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { s, status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// --- seeding -------------------------------------------------------------------------------
let seed = 42;
const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const pad = (n, w = 2) => String(n).padStart(w, '0');
const iso = (ms) => new Date(ms).toISOString();
const mysqlTool = 'mysqldump  Ver 10.19 Distrib 10.11.14-MariaDB, for debian-linux-gnu (x86_64)';
const pgTool = 'pg_dump (PostgreSQL) 16.10 (Debian 16.10-1.pgdg12+1)';
// Ten items a run: service, target, file name base, extension, compression, size (bytes), tool, server, facts.
const rows = (n) =>
  JSON.stringify({ rowCounts: { orders: 1000 + n, customers: 200 + (n >> 3), order_items: 3000 + 3 * n }, tables: 3, consistency: 'single-transaction', rowsCountedFrom: 'dump' });
const targets = [
  { service: 'mysql', target: 'shop', base: 'shop', ext: '.sql.zst', compression: 'zstd', size: 48e6, tool: mysqlTool, server: '10.11.14-MariaDB', facts: rows },
  {
    service: 'mysql',
    target: 'blog',
    base: 'blog',
    ext: '.sql.zst',
    compression: 'zstd',
    size: 6e6,
    tool: mysqlTool,
    server: '10.11.14-MariaDB',
    facts: (n) => JSON.stringify({ rowCounts: { wp_posts: 5000 + (n >> 4), wp_comments: 20000 + (n >> 2) }, tables: 2 }),
  },
  {
    service: 'postgresql',
    target: 'app',
    base: 'app',
    ext: '.dump',
    compression: 'none',
    size: 120e6,
    tool: pgTool,
    server: '16.10',
    facts: (n) => JSON.stringify({ rowCounts: { 'public.users': 10000 + n, 'public.events': 500000 + 40 * n }, tables: 2, format: 'custom' }),
  },
  {
    service: 'postgresql',
    target: '@globals',
    base: 'globals',
    ext: '.sql.zst',
    compression: 'zstd',
    size: 4e3,
    tool: pgTool,
    server: '16.10',
    facts: () => JSON.stringify({ roles: 7 }),
  },
  {
    service: 'redis',
    target: '127.0.0.1:6379',
    base: '127.0.0.1_6379',
    ext: '.rdb.zst',
    compression: 'zstd',
    size: 9e6,
    tool: 'redis-cli 7.0.15',
    server: '7.0.15',
    facts: (n) => JSON.stringify({ keys: { db0: 40000 + n, db1: 120 } }),
  },
  {
    service: 'file',
    target: '/etc',
    base: 'etc',
    ext: '.tar.zst',
    compression: 'zstd',
    size: 1.4e6,
    tool: 'tar (GNU tar) 1.35',
    server: null,
    facts: () => JSON.stringify({ files: 1931, dirs: 412, tarBytes: 6_123_520 }),
  },
  {
    service: 'file',
    target: '/var/www',
    base: 'var_www',
    ext: '.tar.zst',
    compression: 'zstd',
    size: 310e6,
    tool: 'tar (GNU tar) 1.35',
    server: null,
    facts: (n) => JSON.stringify({ files: 48000 + (n >> 5), dirs: 3100, tarBytes: 900_000_000 + 1000 * n }),
  },
  {
    service: 'mongodb',
    target: 'all',
    base: 'all',
    ext: '.archive.zst',
    compression: 'zstd',
    size: 22e6,
    tool: 'mongodump version: 100.10.0',
    server: '7.0.14',
    facts: (n) => JSON.stringify({ collections: 12, documents: 80000 + n }),
  },
  { service: 'pgsql', target: 'legacy', base: 'legacy', ext: '.sql.gz', compression: 'gzip', size: 3e6, tool: null, server: null, facts: () => null },
  { service: 'mysql', target: 'analytics', base: 'analytics', ext: '.sql.zst', compression: 'zstd', size: 75e6, tool: mysqlTool, server: '10.11.14-MariaDB', facts: rows },
];
const services = [...new Set(targets.map((t) => t.service))].join(',');
const failures = {
  mysql: 'mysqldump: Got error: 2013: "Lost connection to server during query" when dumping table `orders` at row: 40211',
  postgresql: 'pg_dump: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: FATAL:  the database system is starting up',
  redis: 'redis-cli: Could not connect to Redis at 127.0.0.1:6379: Connection refused',
  file: 'tar: /var/www/uploads/tmp: file changed as we read it',
  mongodb: 'mongodump: error connecting to host: server selection error: context deadline exceeded',
  pgsql: 'the script pgsql exited with status 1',
};

function seedCatalog() {
  rmSync(home, { recursive: true, force: true });
  run([batt, '--home', home, 'runs']); // creates the home and the catalog with batt's migrations
  const t0 = process.hrtime.bigint();
  const db = new Database(catalog);
  db.pragma('journal_mode = OFF'); // one writer, thrown away on failure: no journal while seeding
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  const insRun = db.prepare('INSERT INTO runs (id, started_at, finished_at, status, host, user, destination, services, pid, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const insItem = db.prepare(
    'INSERT INTO items (id, run_id, service, target, file, bytes, sha256, compression, started_at, finished_at, status, error, tool_version, server_version, facts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insCheck = db.prepare('INSERT INTO checks (item_id, kind, started_at, finished_at, status, details) VALUES (?, ?, ?, ?, ?, ?)');
  const details = JSON.stringify([
    { name: 'sha256', ok: true, detail: 'matches the catalog' },
    { name: 'SHA256SUMS', ok: true, detail: 'listed and matching' },
    { name: 'format', ok: true, detail: 'complete' },
  ]);
  let itemId = 0;
  let checkCount = 0;
  const okItemsOfRecent = [];
  db.transaction(() => {
    for (let id = 1; id <= RUNS; id++) {
      const start = BASE - (RUNS - id) * 3_600_000;
      const d = new Date(start);
      const [Y, M, D, h, m] = [d.getUTCFullYear(), pad(d.getUTCMonth() + 1), pad(d.getUTCDate()), pad(d.getUTCHours()), pad(d.getUTCMinutes())];
      const stamp = `${Y}${M}${D}-${h}${m}`;
      let at = start + 200;
      let failed = 0;
      const runItems = [];
      const itemRows = [];
      for (const t of targets) {
        itemId++;
        const took = Math.round((t.size / 80e6) * 1000 * (0.8 + 0.4 * rand())) + 40;
        const ok = rand() >= 0.02;
        const growth = 0.5 + id / RUNS;
        const bytes = ok ? Math.round(t.size * growth * (0.97 + 0.06 * rand())) : null;
        const file = ok ? `/opt/backup/${Y}/${M}/${D}/${t.service}/${t.base}-${stamp}-run${id}${t.ext}` : null;
        const sha = ok ? createHash('sha256').update(`${id}/${t.base}`).digest('hex') : null;
        itemRows.push([
          itemId,
          id,
          t.service,
          t.target,
          file,
          bytes,
          sha,
          ok ? t.compression : null,
          iso(at),
          iso(at + took),
          ok ? 'ok' : 'failed',
          ok ? null : failures[t.service],
          t.tool,
          t.server,
          ok ? t.facts(id) : null,
        ]);
        if (ok) runItems.push(itemId);
        else failed++;
        at += took + 5;
      }
      const status = failed === 0 ? 'ok' : failed === targets.length ? 'failed' : 'partial';
      insRun.run(
        id,
        iso(start),
        iso(at + 30),
        status,
        'db1.example.net',
        'root',
        '/opt/backup/%Y/%m/%d/{service}',
        services,
        10_000 + (id % 50_000),
        failed ? `${failed} of ${targets.length} items failed` : null,
      );
      for (const r of itemRows) insItem.run(...r);
      if (id > RUNS - 400) okItemsOfRecent.push([runItems, at + 60_000]);
    }
    // The newest 400 runs were verified an hour after each run: one verify per good item.
    for (const [ids, when] of okItemsOfRecent) {
      for (const i of ids) {
        insCheck.run(i, 'verify', iso(when), iso(when + 2500), 'ok', details);
        checkCount++;
      }
    }
  })();
  db.pragma('journal_mode = WAL'); // as batt leaves it
  db.close();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  writeFileSync(join(work, '.done'), JSON.stringify({ runs: RUNS, items: itemId, checks: checkCount, seed_s: seconds }) + '\n');
  return seconds;
}

let seedSeconds = null;
const fresh = !existsSync(join(work, '.done')) || !existsSync(catalog);
if (fresh) {
  console.error(`seeding ${catalog}: ${RUNS.toLocaleString('en')} runs, ${(RUNS * 10).toLocaleString('en')} items ...`);
  seedSeconds = seedCatalog();
  console.error(`seeded in ${seedSeconds.toFixed(1)} s`);
} else {
  console.error(`reusing the seeded catalog ${catalog} (delete ${work} to seed again)`);
  try {
    seedSeconds = JSON.parse(readFileSync(join(work, '.done'), 'utf8')).seed_s ?? null;
  } catch {
    /* an old marker */
  }
}
rmSync(emptyHome, { recursive: true, force: true });
run([batt, '--home', emptyHome, 'runs']);

const count = (sql) => {
  const db = new Database(catalog, { readonly: true });
  try {
    return db.prepare(sql).pluck().get();
  } finally {
    db.close();
  }
};
const counts = () => ({ runs: count('SELECT count(*) FROM runs'), items: count('SELECT count(*) FROM items'), checks: count('SELECT count(*) FROM checks') });
const before = counts();
console.error(`catalog: ${before.runs} runs, ${before.items} items, ${before.checks} checks, ${(statSync(catalog).size / 1e6).toFixed(0)} MB`);

// --- measuring -----------------------------------------------------------------------------
const runsArgs = (h, json) => [batt, '--home', h, 'runs', '--last', '50', ...(json ? ['--json'] : [])];
const pruneArgs = [batt, '--home', home, 'prune', '--dry-run', '--keep-daily', '7', '--keep-weekly', '4', '--keep-monthly', '12'];
// Warm the page cache (and let batt apply any new migration to the seeded catalog) first.
run(runsArgs(home, false), { check: false });
run(['-e', '0']);
const t = { node: [], empty: [], runs: [], json: [] };
let runsError = null;
for (let i = 0; i < rounds; i++) {
  t.node.push(run(['-e', '0']).s);
  for (const [key, args] of [
    ['empty', runsArgs(emptyHome, false)],
    ['runs', runsArgs(home, false)],
    ['json', runsArgs(home, true)],
  ]) {
    const r = run(args, { check: false });
    if (r.status !== 0) runsError ??= `${args.slice(3).join(' ')}: exit ${r.status}: ${r.stderr.trim()}`;
    t[key].push(r.s);
  }
}
const jsonOut = run(runsArgs(home, true), { check: false });
let listed = null;
try {
  listed = JSON.parse(jsonOut.stdout).length;
} catch {
  /* reported below */
}

// The human plan lists kept backups and the first few removed per target; its last line says
// how long planning took. Rounds stop early once prune has taken 30 s in all.
const prune = { wall: [], planMs: [], error: null, outBytes: null };
for (let i = 0, spent = 0; i < Math.max(3, Math.ceil(rounds / 3)) && spent < 30; i++) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, pruneArgs, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  spent += s;
  prune.outBytes = Buffer.byteLength(r.stdout ?? '');
  if (r.status !== 0) {
    prune.error = `exit ${r.status ?? r.signal ?? r.error?.code}: ${(r.stderr || r.stdout || '').trim().split('\n').slice(0, 4).join(' | ')}`;
    break;
  }
  prune.wall.push(s);
  const m = r.stdout.match(/planned in ([\d.]+)s\s*$/);
  if (m) prune.planMs.push(Number(m[1]) * 1000);
  else {
    prune.error = `no "planned in …s" at the end of: ${r.stdout.slice(-200)}`;
    break;
  }
}
const after = counts();
const untouched = after.runs === before.runs && after.items === before.items && after.checks === before.checks;
if (!untouched) rmSync(join(work, '.done'), { force: true }); // re-seed next time

// Any index of items with sha256 among its columns (the issue wants none).
const shaIndexes = (() => {
  const db = new Database(catalog, { readonly: true });
  try {
    return db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'items'")
      .pluck()
      .all()
      .filter((name) => db.prepare('SELECT name FROM pragma_index_info(?)').pluck().all(name).includes('sha256'));
  } finally {
    db.close();
  }
})();

// --- report --------------------------------------------------------------------------------
const node = median(t.node);
const verdict = (ok) => (ok ? 'PASS' : 'MISS');
const table = [['measure', 'median', 'ratio', 'target', 'result']];
const sec = (s) => `${s.toFixed(3)} s`;
table.push(['node -e 0', sec(node), '1.00x', '', '']);
for (const [key, label] of [
  ['empty', 'batt runs --last 50 (empty catalog)'],
  ['runs', 'batt runs --last 50'],
  ['json', 'batt runs --last 50 --json'],
]) {
  const m = median(t[key]);
  table.push([label, sec(m), `${(m / node).toFixed(2)}x`, '<= 2.2x', runsError ? 'MISS (error)' : verdict(m / node <= 2.2)]);
}
if (prune.error) {
  table.push(['batt prune --dry-run (wall)', prune.wall.length ? sec(median(prune.wall)) : '-', '', '', '']);
  table.push(['batt prune --dry-run (plan)', prune.planMs.length ? `${median(prune.planMs).toFixed(0)} ms` : '-', '', '< 1000 ms', 'MISS']);
} else {
  const w = median(prune.wall);
  const p = median(prune.planMs);
  table.push(['batt prune --dry-run (wall)', sec(w), '', '', '']);
  table.push(['batt prune --dry-run (plan)', `${p.toFixed(0)} ms`, '', '< 1000 ms', verdict(p < 1000)]);
}
table.push(['index on items.sha256', shaIndexes.length ? shaIndexes.join(',') : 'none', '', 'none', verdict(shaIndexes.length === 0)]);
table.push(['prune --dry-run left the catalog as it was', untouched ? 'yes' : `no: ${JSON.stringify(after)}`, '', 'yes', verdict(untouched)]);
const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
const line = (r) =>
  r
    .map((cell, c) => (c === 1 || c === 2 ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
    .join('  ')
    .trimEnd();

const { availableParallelism } = await import('node:os');
console.log(`batt catalog benchmark: node ${process.version}, ${availableParallelism()} cores, ${rounds} rounds (median wall time)`);
console.log(
  `catalog: ${before.runs.toLocaleString('en')} runs, ${before.items.toLocaleString('en')} items, ${before.checks.toLocaleString('en')} checks, ${(statSync(catalog).size / 1e6).toFixed(0)} MB at ${catalog}`,
);
console.log(`seeding: ${seedSeconds === null ? '?' : `${seedSeconds.toFixed(1)} s`}${fresh ? '' : ' (earlier; this run reused the catalog)'}`);
if (listed !== null) console.log(`batt runs --last 50 --json listed ${listed} runs`);
if (prune.outBytes !== null) console.log(`batt prune --dry-run printed ${(prune.outBytes / 1e3).toFixed(0)} kB (${prune.wall.length} round(s))`);
console.log('');
console.log(line(table[0]));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of table.slice(1)) console.log(line(r));
if (runsError) console.log(`\nbatt runs failed: ${runsError}`);
if (prune.error) console.log(`\nbatt prune failed: ${prune.error}`);
const misses = table.filter((r) => r[4].startsWith('MISS')).length;
console.log(`\n${misses === 0 ? 'all targets met' : `${misses} target(s) missed`}`);
