// The big catalog the catalog and serve benchmarks share: 100,000 runs of 10 items each
// (1,000,000 items, plus a few of a target added lately), with copies, checks and the news an
// overview has to find. Not a benchmark itself: test/bench/catalog.mjs and test/bench/serve.mjs
// call seededCatalog().
//
// One run an hour; the runs alternate between two schedules of ten targets, so the catalog knows
// 21 service/target pairs: mysql, postgresql and redis ×4, mongodb ×3, file ×5, and the drop-in
// pgsql. About 2% of the items failed at random and 0.1% of the good ones were suspect (half of
// those accepted since). The newest runs carry the news: mysql/crm failed its last 3 backups,
// postgresql/metrics' last 2 are suspect, mongodb/logs failed after a suspect one, and
// file:/srv/uploads (added 3 runs ago) never worked. The last 1,000 runs' good items were copied
// to `offsite`, the last 100 runs' also to `nas`; the last 400 runs' good items were verified an
// hour later (a few verifies failed), and every target's item of every 168th run (weekly, the
// newest two runs among them) had a restore drill (one failed).
//
// batt creates the catalog (its drizzle migrations), then better-sqlite3 bulk-inserts in one
// transaction. The home is seeded once under the work dir and reused while its .done marker is
// there and names this seed's version; delete the folder to seed again.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..', '..');
export const batt = join(repo, 'packages', 'batt', 'bin', 'batt.js');
export const Database = createRequire(join(repo, 'packages', 'core', 'package.json'))('better-sqlite3');
export const RUNS = 100_000;
/** Bumped whenever the seeded data changes: an older marker means seeding again. */
const VERSION = 2;
const BASE = Date.parse('2026-11-22T00:00:00Z'); // the newest run starts here, one run an hour before it

let seed = 42;
const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const pad = (n, w = 2) => String(n).padStart(w, '0');
const iso = (ms) => new Date(ms).toISOString();
const mysqlTool = 'mysqldump  Ver 10.19 Distrib 10.11.14-MariaDB, for debian-linux-gnu (x86_64)';
const pgTool = 'pg_dump (PostgreSQL) 16.10 (Debian 16.10-1.pgdg12+1)';
const mongoTool = 'mongodump version: 100.10.0';
const tar = 'tar (GNU tar) 1.35';

// A target: service, target, file name base, extension, compression, size (bytes), tool, server, facts.
const shopRows = (n) =>
  JSON.stringify({ rowCounts: { orders: 1000 + n, customers: 200 + (n >> 3), order_items: 3000 + 3 * n }, tables: 3, consistency: 'single-transaction', rowsCountedFrom: 'dump' });
const mysql = (target, size, facts = shopRows) => ({
  service: 'mysql',
  target,
  base: target,
  ext: '.sql.zst',
  compression: 'zstd',
  size,
  tool: mysqlTool,
  server: '10.11.14-MariaDB',
  facts,
});
const postgresql = (target, base, size, facts) => ({ service: 'postgresql', target, base, ext: '.dump', compression: 'none', size, tool: pgTool, server: '16.10', facts });
const redis = (target, size) => ({
  service: 'redis',
  target,
  base: target.replace(':', '_'),
  ext: '.rdb.zst',
  compression: 'zstd',
  size,
  tool: 'redis-cli 7.0.15',
  server: '7.0.15',
  facts: (n) => JSON.stringify({ keys: { db0: Math.round(size / 200) + n, db1: 120 } }),
});
const mongodb = (target, size) => ({
  service: 'mongodb',
  target,
  base: target,
  ext: '.archive.zst',
  compression: 'zstd',
  size,
  tool: mongoTool,
  server: '7.0.14',
  facts: (n) => JSON.stringify({ collections: 12, documents: Math.round(size / 300) + n }),
});
const file = (target, size, files) => ({
  service: 'file',
  target,
  base: target.slice(1).replaceAll('/', '_'),
  ext: '.tar.zst',
  compression: 'zstd',
  size,
  tool: tar,
  server: null,
  facts: (n) => JSON.stringify({ files: files + (n >> 5), dirs: Math.round(files / 12), tarBytes: Math.round(size * 3) + 1000 * n }),
});

// Even run ids: the databases; odd ones: the rest. Ten targets each.
const schedules = [
  [
    mysql('shop', 48e6),
    mysql('blog', 6e6, (n) => JSON.stringify({ rowCounts: { wp_posts: 5000 + (n >> 4), wp_comments: 20000 + (n >> 2) }, tables: 2 })),
    mysql('analytics', 75e6),
    mysql('crm', 12e6),
    postgresql('app', 'app', 120e6, (n) => JSON.stringify({ rowCounts: { 'public.users': 10000 + n, 'public.events': 500000 + 40 * n }, tables: 2, format: 'custom' })),
    postgresql('billing', 'billing', 30e6, (n) => JSON.stringify({ rowCounts: { 'public.invoices': 80000 + n }, tables: 1, format: 'custom' })),
    postgresql('@globals', 'globals', 4e3, () => JSON.stringify({ roles: 7 })),
    postgresql('metrics', 'metrics', 60e6, (n) => JSON.stringify({ rowCounts: { 'public.samples': 2_000_000 + 100 * n }, tables: 1, format: 'custom' })),
    redis('127.0.0.1:6379', 9e6),
    redis('127.0.0.1:6380', 2e6),
  ],
  [
    mongodb('app', 22e6),
    mongodb('logs', 40e6),
    mongodb('audit', 5e6),
    file('/etc', 1.4e6, 1931),
    file('/var/www', 310e6, 48000),
    file('/home', 90e6, 12000),
    file('/srv/data', 150e6, 6000),
    redis('cache.internal:6379', 15e6),
    redis('sessions.internal:6379', 3e6),
    { service: 'pgsql', target: 'legacy', base: 'legacy', ext: '.sql.gz', compression: 'gzip', size: 3e6, tool: null, server: null, facts: () => null },
  ],
];
const servicesOf = schedules.map((s) => [...new Set(s.map((t) => t.service))].join(','));
const uploads = file('/srv/uploads', 50e6, 3000); // in the newest 3 runs of the second schedule only
const failures = {
  mysql: 'mysqldump: Got error: 2013: "Lost connection to server during query" when dumping table `orders` at row: 40211',
  postgresql: 'pg_dump: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: FATAL:  the database system is starting up',
  redis: 'redis-cli: Could not connect to Redis at 127.0.0.1:6379: Connection refused',
  file: 'tar: /var/www/uploads/tmp: file changed as we read it',
  mongodb: 'mongodump: error connecting to host: server selection error: context deadline exceeded',
  pgsql: 'the script pgsql exited with status 1',
};
const checkDetails = (ok) =>
  JSON.stringify([
    { name: 'sha256', ok, detail: ok ? 'matches the catalog' : 'does not match the catalog' },
    { name: 'SHA256SUMS', ok: true, detail: 'listed and matching' },
    { name: 'format', ok: true, detail: 'complete' },
  ]);
const drillDetails = (ok) =>
  JSON.stringify([
    { name: 'restore', ok: true, detail: 'restored into a scratch target' },
    { name: 'rows', ok, detail: ok ? 'every table has the rows the facts recorded' : 'public.samples: 1,204,112 rows, 2,008,400 recorded' },
  ]);

/**
 * The news of the newest runs, by run id (counted back from the newest: 0 is the newest run of
 * its schedule, 1 the one before, …): what happened to a target's item, else undefined.
 */
function news(t, back) {
  const key = `${t.service}:${t.target}`;
  if (key === 'mysql:crm' && back < 3) return 'failed';
  if (key === 'postgresql:metrics' && back < 2) return 'suspect';
  if (key === 'mongodb:logs') return back === 0 ? 'failed' : back === 1 ? 'suspect' : undefined;
  if (key === 'file:/srv/uploads') return 'failed';
  return undefined;
}

function seedHome(home, catalog, runs, stepMs) {
  rmSync(home, { recursive: true, force: true });
  const made = spawnSync(process.execPath, [batt, '--home', home, 'runs'], { encoding: 'utf8' }); // creates the home and the catalog with batt's migrations
  if (made.status !== 0) throw new Error(`batt --home ${home} runs failed (${made.status}): ${made.stderr}`);
  const t0 = process.hrtime.bigint();
  const db = new Database(catalog);
  db.pragma('journal_mode = OFF'); // one writer, thrown away on failure: no journal while seeding
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  const insRun = db.prepare('INSERT INTO runs (id, started_at, finished_at, status, host, user, destination, services, pid, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const insItem = db.prepare(
    'INSERT INTO items (id, run_id, service, target, file, bytes, sha256, compression, started_at, finished_at, status, error, tool_version, server_version, facts, suspect, accepted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insCheck = db.prepare('INSERT INTO checks (item_id, kind, started_at, finished_at, status, target, details, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const insCopy = db.prepare('INSERT INTO copies (item_id, storage, key, bytes, sha256, copied_at) VALUES (?, ?, ?, ?, ?, ?)');
  let itemId = 0;
  const n = { checks: 0, copies: 0, suspect: 0 };
  db.transaction(() => {
    for (let id = 1; id <= runs; id++) {
      const start = BASE - (runs - id) * stepMs;
      const d = new Date(start);
      const [Y, M, D, h, m] = [d.getUTCFullYear(), pad(d.getUTCMonth() + 1), pad(d.getUTCDate()), pad(d.getUTCHours()), pad(d.getUTCMinutes())];
      const stamp = `${Y}${M}${D}-${h}${m}`;
      const schedule = id % 2;
      const back = Math.floor((runs - id) / 2); // 0 for the newest run of each schedule
      const targets = schedule === 1 && back < 3 ? [...schedules[1], uploads] : schedules[schedule];
      let at = start + 200;
      let failed = 0;
      const good = []; // [item id, target, file, bytes, sha, finished]
      const itemRows = [];
      for (const t of targets) {
        itemId++;
        const took = Math.round((t.size / 80e6) * 1000 * (0.8 + 0.4 * rand())) + 40;
        const happened = news(t, back);
        const ok = happened ? happened !== 'failed' : rand() >= 0.02;
        const odd = ok && !happened && rand() < 0.001 ? (rand() < 0.5 ? 'suspect' : 'accepted') : happened;
        const growth = 0.5 + id / runs;
        const bytes = ok ? Math.round(t.size * growth * (0.97 + 0.06 * rand()) * (odd === 'suspect' || odd === 'accepted' ? 0.3 : 1)) : null;
        const path = ok ? `/opt/backup/${Y}/${M}/${D}/${t.service}/${t.base}-${stamp}-run${id}${t.ext}` : null;
        const sha = ok ? createHash('sha256').update(`${id}/${t.service}/${t.base}`).digest('hex') : null;
        const usual = Math.round(t.size * growth);
        const suspect = odd === 'suspect' ? `size ${(bytes / 2 ** 20).toFixed(1)} MiB is 30% of the usual ${(usual / 2 ** 20).toFixed(1)} MiB` : null;
        if (suspect) n.suspect++;
        itemRows.push([
          itemId,
          id,
          t.service,
          t.target,
          path,
          bytes,
          sha,
          ok ? t.compression : null,
          iso(at),
          iso(at + took),
          ok ? 'ok' : 'failed',
          ok ? null : t === uploads ? 'tar: /srv/uploads: Cannot open: No such file or directory' : failures[t.service],
          t.tool,
          t.server,
          ok ? t.facts(id) : null,
          suspect,
          odd === 'accepted' ? iso(start + 86_400_000) : null,
        ]);
        if (ok) good.push([itemId, t, path, bytes, sha, at + took]);
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
        servicesOf[schedule],
        10_000 + (id % 50_000),
        failed ? `${failed} of ${targets.length} items failed` : null,
      );
      for (const r of itemRows) insItem.run(...r);
      const age = runs - id; // runs newer than this one
      for (const [i, t, path, bytes, sha, done] of good) {
        const key = `db1.example.net/${path.slice('/opt/backup/'.length)}`;
        if (age < 1000) {
          insCopy.run(i, 'offsite', key, bytes, sha, iso(done + 20_000));
          n.copies++;
        }
        if (age < 100) {
          insCopy.run(i, 'nas', key, bytes, sha, iso(done + 40_000));
          n.copies++;
        }
        // An hour after the run: one verify per good item (one in 500 found a bad hash).
        if (age < 400) {
          const ok = i % 500 !== 7;
          insCheck.run(
            i,
            'verify',
            iso(at + 3_600_000),
            iso(at + 3_602_500),
            ok ? 'ok' : 'failed',
            null,
            checkDetails(ok),
            ok ? null : `${path}: sha256 does not match the catalog`,
          );
          n.checks++;
        }
        // Weekly restore drills, the two schedules' newest runs among them; one failed.
        if (Math.floor(age / 2) % 84 === 0 && t.service !== 'pgsql') {
          const ok = !(t.target === 'metrics' && age === 168);
          const scratch = t.service === 'file' ? `/var/tmp/batt-drill${t.target}` : `batt_drill_${t.base.replace(/[^a-z0-9]/gi, '_')}`;
          insCheck.run(
            i,
            'restore-test',
            iso(at + 7_200_000),
            iso(at + 7_500_000),
            ok ? 'ok' : 'failed',
            scratch,
            drillDetails(ok),
            ok ? null : 'the restored rows do not match the facts',
          );
          n.checks++;
        }
      }
    }
  })();
  db.pragma('journal_mode = WAL'); // as batt leaves it
  db.close();
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, items: itemId, ...n };
}

/**
 * Seeds (or reuses) the catalog under `work`: `<work>/home/catalog.db`, marked by `<work>/.done`.
 * Returns its paths, whether it was seeded just now, and how long seeding took (then or earlier).
 * `runs` and `stepMs` (the time between two runs) change its size: test/bench/scale.mjs seeds
 * 365,000 runs 86.4 s apart (1,000 runs a day for a year).
 */
export function seededCatalog(work, log = (line) => console.error(line), { runs = RUNS, stepMs = 3_600_000 } = {}) {
  const home = join(work, 'home');
  const catalog = join(home, 'catalog.db');
  const done = join(work, '.done');
  mkdirSync(work, { recursive: true });
  let marker = null;
  try {
    marker = JSON.parse(readFileSync(done, 'utf8'));
  } catch {
    /* none yet, or an old one */
  }
  if (marker?.version === VERSION && marker.runs === runs && (marker.step_ms ?? 3_600_000) === stepMs && existsSync(catalog)) {
    log(`reusing the seeded catalog ${catalog} (delete ${work} to seed again)`);
    return { home, catalog, done, fresh: false, seedSeconds: marker.seed_s ?? null };
  }
  log(`seeding ${catalog}: ${runs.toLocaleString('en')} runs, ${(runs * 10).toLocaleString('en')} items ...`);
  rmSync(done, { force: true });
  const r = seedHome(home, catalog, runs, stepMs);
  writeFileSync(
    done,
    JSON.stringify({ version: VERSION, runs, step_ms: stepMs, items: r.items, checks: r.checks, copies: r.copies, suspect: r.suspect, seed_s: r.seconds }) + '\n',
  );
  log(`seeded in ${r.seconds.toFixed(1)} s`);
  return { home, catalog, done, fresh: true, seedSeconds: r.seconds };
}
