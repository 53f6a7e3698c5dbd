#!/usr/bin/env node
// batt's catalog commands on a big catalog (100,000 runs, 1,000,000 items, some 15,000 checks
// and 10,000 copies), measured in the same run on the same machine:
//   1. `batt runs --last 50` (and `--json`) vs `node -e 0`        target: <= 1.5x (issue 19)
//      (also on an empty catalog, which shows start-up alone)
//   2. `batt prune --dry-run --keep-daily 7 --keep-weekly 4 --keep-monthly 12`
//      target: the plan ("planned in …s" on its last line) under 1 s; the whole command's
//      wall time is shown beside it
//   3. no index on items.sha256 (the issue rules one out; checked in sqlite_master)
// Usage: node test/bench/catalog.mjs [--workdir DIR] [--rounds N] [--quick] [--result FILE]
//   --quick: 3 rounds and one prune (the catalog is the same: the targets are set at its size)
//   --result FILE: also append the figures to FILE as JSON lines (test/bench/all.mjs reads them)
// The catalog is seeded once under the work dir (default: .bench/catalog in the repo) and
// reused while its .done marker is there; delete the folder to seed again. batt creates the
// catalog (its drizzle migrations), then better-sqlite3 bulk-inserts in one transaction; what
// it holds is described in test/bench/catalog-seed.mjs (test/bench/serve.mjs shares it).
// Prints a table; exits 0 whether or not the targets are met.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { batt, Database, seededCatalog } from './catalog-seed.mjs';
import { cliArgs, median, resultOptions, row, textTable, writeResults } from './results.mjs';

const repo = resolve(import.meta.dirname, '..', '..');
const { values: opts } = parseArgs({ args: cliArgs(), options: { workdir: { type: 'string' }, rounds: { type: 'string' }, ...resultOptions } });
const quick = Boolean(opts.quick);
const work = resolve(opts.workdir ?? join(repo, '.bench', 'catalog'));
const rounds = Number(opts.rounds ?? (quick ? 3 : 9));
const RUNS_TARGET = 1.5; // batt runs --last 50 against node -e 0 (issue 19; it was 2.2)
const emptyHome = join(work, 'empty-home');
mkdirSync(work, { recursive: true });

function run(args, { check = true } = {}) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  if (check && r.status !== 0) throw new Error(`node ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { s, status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

// --- seeding (test/bench/catalog-seed.mjs) -------------------------------------------------
const { home, catalog, done, fresh, seedSeconds } = seededCatalog(work);
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
for (let i = 0, spent = 0; i < (quick ? 1 : Math.max(3, Math.ceil(rounds / 3))) && spent < 30; i++) {
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
if (!untouched) rmSync(done, { force: true }); // re-seed next time

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
// The rows for pnpm bench (test/bench/all.mjs): the same figures, and the prune plan's.
const results = [];
const size = `${(before.runs / 1000).toFixed(0)}k runs / ${(before.items / 1e6).toFixed(1)}M items`;
for (const [key, label, what] of [
  ['empty', 'batt runs --last 50 (empty catalog)', 'batt runs --last 50 on an empty catalog vs node -e 0'],
  ['runs', 'batt runs --last 50', `batt runs --last 50 on ${size} vs node -e 0`],
  ['json', 'batt runs --last 50 --json', `batt runs --last 50 --json on ${size} vs node -e 0`],
]) {
  const m = median(t[key]);
  table.push([label, sec(m), `${(m / node).toFixed(2)}x`, `<= ${RUNS_TARGET}x`, runsError ? 'MISS (error)' : verdict(m / node <= RUNS_TARGET)]);
  results.push(
    row('catalog', what, {
      figure: m,
      unit: 's',
      reference: sec(node),
      ratio: m / node,
      target: `<= ${RUNS_TARGET}`,
      ok: !runsError && m / node <= RUNS_TARGET,
      note: runsError && key === 'runs' ? `batt runs failed: ${runsError}` : undefined,
    }),
  );
}
if (prune.error) {
  table.push(['batt prune --dry-run (wall)', prune.wall.length ? sec(median(prune.wall)) : '-', '', '', '']);
  table.push(['batt prune --dry-run (plan)', prune.planMs.length ? `${median(prune.planMs).toFixed(0)} ms` : '-', '', '< 1000 ms', 'MISS']);
  results.push(row('catalog', `batt prune --dry-run plan on ${size}`, { target: '< 1000 ms', ok: false, note: `batt prune failed: ${prune.error}` }));
} else {
  const w = median(prune.wall);
  const p = median(prune.planMs);
  table.push(['batt prune --dry-run (wall)', sec(w), '', '', '']);
  table.push(['batt prune --dry-run (plan)', `${p.toFixed(0)} ms`, '', '< 1000 ms', verdict(p < 1000)]);
  results.push(row('catalog', `batt prune --dry-run plan on ${size} (wall ${w.toFixed(2)} s)`, { figure: p, unit: 'ms', target: '< 1000 ms', ok: p < 1000 }));
}
table.push(['index on items.sha256', shaIndexes.length ? shaIndexes.join(',') : 'none', '', 'none', verdict(shaIndexes.length === 0)]);
table.push(['prune --dry-run left the catalog as it was', untouched ? 'yes' : `no: ${JSON.stringify(after)}`, '', 'yes', verdict(untouched)]);
results.push(row('catalog', 'indexes on items.sha256', { figure: shaIndexes.length ? shaIndexes.join(',') : 'none', target: 'none', ok: shaIndexes.length === 0 }));
results.push(row('catalog', 'prune --dry-run left the catalog as it was', { figure: untouched ? 'yes' : 'no', target: 'yes', ok: untouched }));
writeResults(opts.result, results);

const { availableParallelism } = await import('node:os');
console.log(`batt catalog benchmark: node ${process.version}, ${availableParallelism()} cores, ${rounds} rounds (median wall time)`);
console.log(
  `catalog: ${before.runs.toLocaleString('en')} runs, ${before.items.toLocaleString('en')} items, ${before.checks.toLocaleString('en')} checks, ${(statSync(catalog).size / 1e6).toFixed(0)} MB at ${catalog}`,
);
console.log(`seeding: ${seedSeconds === null ? '?' : `${seedSeconds.toFixed(1)} s`}${fresh ? '' : ' (earlier; this run reused the catalog)'}`);
if (listed !== null) console.log(`batt runs --last 50 --json listed ${listed} runs`);
if (prune.outBytes !== null) console.log(`batt prune --dry-run printed ${(prune.outBytes / 1e3).toFixed(0)} kB (${prune.wall.length} round(s))`);
console.log('');
for (const l of textTable(table, [1, 2])) console.log(l);
if (runsError) console.log(`\nbatt runs failed: ${runsError}`);
if (prune.error) console.log(`\nbatt prune failed: ${prune.error}`);
const misses = table.filter((r) => r[4].startsWith('MISS')).length;
console.log(`\n${misses === 0 ? 'all targets met' : `${misses} target(s) missed`}`);
