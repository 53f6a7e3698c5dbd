#!/usr/bin/env node
// `batt serve` on a big catalog (100,000 runs, 1,000,000 items, with copies, checks and a few
// failed and suspect backups; test/bench/catalog-seed.mjs), as issue 18 asks: "/api/overview and
// the first runs page answer in <= 150 ms each, and the server's memory stays <= 150 MB".
//   1. the median and p95 of N sequential requests (after a warm-up) to each of
//      /api/overview, /api/runs (the first page, 50 runs)        target: <= 150 ms
//      /api/runs?service=mysql, /api/runs?before=<an id deep in the catalog>, /api/runs/<id>
//                                                                 (no target: shown beside)
//      the pages /, /runs, /runs/<id>                             target: <= 150 ms
//      (a page that answers 404 is "not built" yet)
//      a target's page and API (/targets/mysql/shop: its charts)   target: <= 150 ms
//   2. the server's peak RSS (VmHWM in /proc/<pid>/status), after those and then a soak of
//      --soak N more requests (default 2,000) over different pages of runs, runs and targets,
//      as a dashboard left open for days would send                target: <= 150 MB
// Time is the client's: from the request to the last byte of the answer, over a kept-alive
// connection to 127.0.0.1 (node's fetch; it sends Host: 127.0.0.1:<port>).
// Usage: node test/bench/serve.mjs [--workdir DIR] [--rounds N] [--soak N] [--quick] [--result FILE]
//   --quick: 7 requests per url and a soak of 300 (the catalog is the same, at the targets' size)
//   --result FILE: also append the figures to FILE as JSON lines (test/bench/all.mjs reads them)
// The catalog is seeded once under the work dir (default: .bench/catalog in the repo, the one
// test/bench/catalog.mjs uses) and reused while its .done marker is there; delete the folder to
// seed again. The server is `node packages/batt/bin/batt.js serve --home <home> --port 0`.
// Prints a table; exits 0 whether or not the targets are met.
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { batt, Database, seededCatalog } from './catalog-seed.mjs';
import { cliArgs, resultOptions, row, textTable, writeResults } from './results.mjs';

const repo = resolve(import.meta.dirname, '..', '..');
const { values: opts } = parseArgs({ args: cliArgs(), options: { workdir: { type: 'string' }, rounds: { type: 'string' }, soak: { type: 'string' }, ...resultOptions } });
const quick = Boolean(opts.quick);
const work = resolve(opts.workdir ?? join(repo, '.bench', 'catalog'));
const rounds = Number(opts.rounds ?? (quick ? 7 : 21));
const soak = Number(opts.soak ?? (quick ? 300 : 2000));
const TARGET_MS = 150;
const TARGET_MB = 150;

const { home, catalog, fresh, seedSeconds } = seededCatalog(work);

// The runs to ask for: the newest (it has failed items, copies, verifies and drills) and one
// nine tenths of the way down.
const facts = (() => {
  const db = new Database(catalog, { readonly: true });
  try {
    const one = (sql) => db.prepare(sql).pluck().get();
    const newest = one('SELECT max(id) FROM runs');
    return {
      newest,
      deep: one(`SELECT id FROM runs WHERE id <= ${Math.ceil(newest / 10)} ORDER BY id DESC LIMIT 1`),
      runs: one('SELECT count(*) FROM runs'),
      items: one('SELECT count(*) FROM items'),
      checks: one('SELECT count(*) FROM checks'),
      copies: one('SELECT count(*) FROM copies'),
      pairs: one('SELECT count(*) FROM (SELECT DISTINCT service, target FROM items)'),
      target: db.prepare("SELECT service, target FROM items WHERE service = 'mysql' ORDER BY id DESC LIMIT 1").get(),
    };
  } finally {
    db.close();
  }
})();

// --- the server ------------------------------------------------------------------------------
// node itself, not a shell, so the pid is the server's.
const started = process.hrtime.bigint();
const server = spawn(process.execPath, [batt, 'serve', '--home', home, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
let stderr = '';
server.stderr.on('data', (chunk) => (stderr += chunk));
const exited = new Promise((done) => server.once('exit', (code, signal) => done({ code, signal })));
const port = await new Promise((done, fail) => {
  let out = '';
  const timer = setTimeout(() => fail(new Error(`batt serve printed no address in 120 s: ${out}${stderr}`)), 120_000);
  server.stdout.on('data', (chunk) => {
    out += chunk;
    const m = /batt serve: http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
    if (m) {
      clearTimeout(timer);
      done(Number(m[1]));
    }
  });
  exited.then(({ code, signal }) => {
    clearTimeout(timer);
    fail(new Error(`batt serve exited (${code ?? signal}) before it listened: ${out}${stderr}`));
  });
});
const readySeconds = Number(process.hrtime.bigint() - started) / 1e9;
const base = `http://127.0.0.1:${port}`;

/** One request, read to its last byte: [ms, status, bytes]. */
async function request(path, accept) {
  const t = process.hrtime.bigint();
  const res = await fetch(base + path, { headers: accept ? { accept } : {} });
  const body = await res.arrayBuffer();
  return [Number(process.hrtime.bigint() - t) / 1e6, res.status, body.byteLength];
}

const html = 'text/html';
const urls = [
  { path: '/api/overview', target: true },
  { path: '/api/runs', target: true },
  { path: '/api/runs?service=mysql' },
  { path: `/api/runs?before=${facts.deep}` },
  { path: `/api/runs/${facts.newest}` },
  { path: '/', target: true, page: true },
  { path: '/runs', target: true, page: true },
  { path: `/runs/${facts.newest}`, target: true, page: true },
  { path: `/api/targets/${encodeURIComponent(facts.target.service)}/${encodeURIComponent(facts.target.target)}`, target: true },
  { path: `/targets/${encodeURIComponent(facts.target.service)}/${encodeURIComponent(facts.target.target)}`, target: true, page: true },
];

let results;
let memory;
let soakSeconds = 0;
try {
  for (let i = 0; i < 3; i++) for (const u of urls) await request(u.path, u.page ? html : undefined); // warm-up
  results = [];
  for (const u of urls) {
    const ms = [];
    let status = 200;
    let bytes = 0;
    for (let i = 0; i < rounds; i++) {
      const [t, s, b] = await request(u.path, u.page ? html : undefined);
      ms.push(t);
      [status, bytes] = [s, b];
      if (s !== 200) break;
    }
    results.push({ ...u, ms, status, bytes });
  }
  const soakStarted = process.hrtime.bigint();
  for (let i = 0; i < soak; i++) {
    const page =
      i % 4 === 0
        ? `/runs?before=${facts.newest - i * 37}`
        : i % 4 === 1
          ? `/api/runs?before=${facts.newest - i * 41}&limit=200`
          : i % 4 === 2
            ? `/runs/${facts.newest - i * 13}`
            : urls[i % urls.length].path;
    await request(page);
  }
  soakSeconds = Number(process.hrtime.bigint() - soakStarted) / 1e9;
} finally {
  // The peak is read once every request was answered; VmHWM is the most the process ever held.
  memory = (() => {
    try {
      const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
      const kB = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
      return { hwm: (kB('VmHWM') * 1024) / 1e6, rss: (kB('VmRSS') * 1024) / 1e6 };
    } catch (error) {
      return { error: error.message };
    }
  })();
  server.kill('SIGTERM');
  await exited;
}

// --- report ----------------------------------------------------------------------------------
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const median = (xs) => sorted(xs)[Math.floor(xs.length / 2)];
const p95 = (xs) => sorted(xs)[Math.ceil(xs.length * 0.95) - 1]; // nearest rank
const table = [['url', 'median ms', 'p95 ms', 'target', 'met', 'answer']];
const rows = []; // for pnpm bench (test/bench/all.mjs)
for (const r of results) {
  const target = r.target ? `<= ${TARGET_MS} ms` : '';
  const what = `${r.page ? 'page' : 'GET'} ${r.path.replace(/\d{4,}/g, '<id>')} on ${(facts.runs / 1000).toFixed(0)}k runs (median of ${r.ms.length})`;
  if (r.page && r.status === 404) {
    table.push([r.path, 'not built', '', target, '-', '404']);
    rows.push(row('serve', what, { target, ok: false, note: `${r.path}: 404, not built` }));
  } else if (r.status !== 200) {
    table.push([r.path, '-', '-', target, r.target ? 'no' : '-', `HTTP ${r.status}`]);
    rows.push(row('serve', what, { target, ok: r.target ? false : undefined, note: `${r.path}: HTTP ${r.status}` }));
  } else {
    const m = median(r.ms);
    table.push([r.path, m.toFixed(1), p95(r.ms).toFixed(1), target, r.target ? (m <= TARGET_MS ? 'yes' : 'no') : '', `${(r.bytes / 1e3).toFixed(1)} kB`]);
    rows.push(row('serve', what, { figure: m, unit: 'ms', reference: `p95 ${p95(r.ms).toFixed(1)} ms`, target, ok: r.target ? m <= TARGET_MS : undefined }));
  }
}
const rssWhat = `server peak RSS (VmHWM) after those and a soak of ${soak.toLocaleString('en')} requests`;
if (memory.error) {
  table.push(['server peak RSS', '-', '', `<= ${TARGET_MB} MB`, 'no', memory.error]);
  rows.push(row('serve', rssWhat, { target: `<= ${TARGET_MB} MB`, ok: false, note: memory.error }));
} else {
  rows.push(
    row('serve', rssWhat, { figure: memory.hwm, unit: 'MB', reference: `VmRSS ${memory.rss.toFixed(0)} MB at the end`, target: `<= ${TARGET_MB} MB`, ok: memory.hwm <= TARGET_MB }),
  );
  table.push([
    'server peak RSS (VmHWM)',
    `${memory.hwm.toFixed(0)} MB`,
    '',
    `<= ${TARGET_MB} MB`,
    memory.hwm <= TARGET_MB ? 'yes' : 'no',
    `VmRSS ${memory.rss.toFixed(0)} MB at the end, after a soak of ${soak} requests in ${soakSeconds.toFixed(0)} s`,
  ]);
}
writeResults(opts.result, rows);

console.log(`batt serve benchmark: node ${process.version}, ${availableParallelism()} cores, ${rounds} sequential requests per url after a warm-up (median, p95)`);
console.log(
  `catalog: ${facts.runs.toLocaleString('en')} runs, ${facts.items.toLocaleString('en')} items, ${facts.checks.toLocaleString('en')} checks, ${facts.copies.toLocaleString('en')} copies, ${facts.pairs} service/target pairs, ${(statSync(catalog).size / 1e6).toFixed(0)} MB at ${catalog}`,
);
console.log(`seeding: ${seedSeconds === null ? '?' : `${seedSeconds.toFixed(1)} s`}${fresh ? '' : ' (earlier; this run reused the catalog)'}`);
console.log(`batt serve listened after ${readySeconds.toFixed(2)} s on port ${port}`);
console.log('');
for (const l of textTable(table, [1, 2])) console.log(l);
const misses = table.filter((r) => r[4] === 'no').length;
const unbuilt = table.filter((r) => r[1] === 'not built').length;
console.log(`\n${misses === 0 ? 'all targets met' : `${misses} target(s) missed`}${unbuilt ? ` (${unbuilt} page(s) not built yet)` : ''}`);
