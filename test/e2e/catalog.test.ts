import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { execa } from 'execa';
import { fixtureSandbox, json, sandbox, sandboxFor } from '../lib/batt.js';

describe('the catalog', () => {
  const box = sandboxFor('all');
  let ok: any;
  let partial: any;
  // Two runs every test reads (and none changes): one ok, one partial.
  before(async () => {
    const data = box.folder('data', { x: 'x'.repeat(1000) });
    ok = json(await box.batt(['--file', data, '--path', box.out, '--json']));
    partial = json(await box.batt(['--file', data, '--file', join(box.dir, 'nope'), '--path', box.out, '--json']));
  });

  it('records runs and items that sqlite3 can read, in WAL mode, 0600', async () => {
    const db = join(box.home, 'catalog.db');
    const q = async (sql: string): Promise<string> => (await execa('sqlite3', [db, sql])).stdout.trim();
    assert.equal(await q('pragma journal_mode'), 'wal');
    assert.equal(await q(`select status from runs where id = ${ok.id}`), 'ok');
    assert.equal(await q(`select status from runs where id = ${partial.id}`), 'partial');
    assert.equal(await q(`select count(*) from items where run_id = ${partial.id} and status = 'failed' and error like '%does not exist%'`), '1');
    const [sha, bytes, file] = (await q(`select sha256, bytes, file from items where run_id = ${ok.id}`)).split('|');
    assert.equal((await execa('sha256sum', [file])).stdout.split(' ')[0], sha);
    assert.equal(Number(bytes), (await import('node:fs')).statSync(file).size);
    assert.equal((await import('node:fs')).statSync(db).mode & 0o777, 0o600);
  });

  it('lists runs newest first, filtered by service and status, as JSON and as a table', async () => {
    const all = json<any[]>(await box.batt(['runs', '--json']));
    assert.deepEqual(
      all.map((r) => [r.id, r.status]),
      [
        [partial.id, 'partial'],
        [ok.id, 'ok'],
      ],
    );
    const partials = json<any[]>(await box.batt(['runs', '--status', 'partial', '--json']));
    assert.deepEqual(
      partials.map((r) => r.id),
      [partial.id],
    );
    assert.deepEqual(json<any[]>(await box.batt(['runs', '--service', 'nosuch', '--json'])), []);
    assert.equal(json<any[]>(await box.batt(['runs', '--last', '1', '--json'])).length, 1);
    const table = await box.batt(['runs']);
    assert.match(table.stdout, /RUN\s+STARTED\s+STATUS/);
    assert.match(table.stdout, /partial/);
  });

  it('shows a run: items, files, bytes, sha256, errors', async () => {
    const shown = await box.batt(['show', 'latest']);
    assert.equal(shown.exitCode, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`^run\\s+${partial.id}\\b`, 'm'));
    assert.match(shown.stdout, /sha256\s+[0-9a-f]{64}/);
    assert.match(shown.stdout, /error\s+.*does not exist/);
    const j = json(await box.batt(['show', 'latest', '--json']));
    assert.equal(j.id, partial.id);
    assert.equal(j.items.length, 2);
  });

  it('writes a manifest beside the artifacts that matches the catalog', async () => {
    const latest = json(await box.batt(['show', 'latest', '--json']));
    const ok = latest.items.find((i: any) => i.status === 'ok');
    const manifest = JSON.parse((await import('node:fs')).readFileSync(join(box.out, 'file', `batt-run-${latest.id}.json`), 'utf8'));
    assert.equal(manifest.run.id, latest.id);
    assert.deepEqual(
      manifest.items.map((i: any) => [i.file, i.sha256, i.bytes]),
      [[ok.file, ok.sha256, ok.bytes]],
    );
  });
});

describe('catalog rebuild takes back what the runs recorded', () => {
  let ok: any;
  let nothing: any;
  let partial: any;
  let nope: string;
  // Three runs (ok, failed, partial) every test starts from, whatever the one before it did.
  const box = fixtureSandbox(async () => {
    const a = box.folder('a', { x: 'x'.repeat(5000) });
    const b = box.folder('b', { y: 'y' });
    nope = join(box.dir, 'nope');
    // One at a time, so the items' times differ from each other and from the run's.
    ok = json(await box.batt(['--file', a, '--file', b, '--path', box.out, '-j', '1', '--json']));
    nothing = json(await box.batt(['--file', nope, '--path', box.out, '--json']));
    partial = json(await box.batt(['--file', a, '--file', nope, '--path', box.out, '-j', '1', '--json']));
  });

  const q = async (sql: string): Promise<string> => (await execa('sqlite3', [join(box.home, 'catalog.db'), sql])).stdout.trim();
  const dropCatalog = (): void => {
    for (const s of ['', '-wal', '-shm']) rmSync(join(box.home, `catalog.db${s}`), { force: true });
  };

  it('each item with its own times, failed items with their errors, each run with its status; runs without a manifest are named', async () => {
    assert.deepEqual([ok.status, nothing.status, partial.status], ['ok', 'failed', 'partial']);

    // The manifest records each item's own times, as the catalog has them, and the failures.
    const manifest = JSON.parse(readFileSync(join(box.out, 'file', `batt-run-${partial.id}.json`), 'utf8'));
    assert.equal(
      `${manifest.items[0].startedAt}|${manifest.items[0].finishedAt}`,
      await q(`select started_at, finished_at from items where run_id = ${partial.id} and status = 'ok'`),
    );
    assert.deepEqual(
      manifest.failed.map((f: any) => [f.target, f.status]),
      [[nope, 'failed']],
    );
    assert.match(manifest.failed[0].error, /does not exist/);

    const runsSql = `select id, status, error, started_at, host, user, destination from runs where id <> ${nothing.id} order by id`;
    const itemsSql = `select run_id, service, target, file, bytes, sha256, status, error, started_at, finished_at from items where run_id <> ${nothing.id} order by run_id, target`;
    const runsBefore = await q(runsSql);
    const itemsBefore = await q(itemsSql);
    assert.notEqual(await q(`select count(distinct started_at) from items where run_id = ${ok.id}`), '1');
    dropCatalog();
    const r = await box.batt(['catalog', 'rebuild', box.out, '--json']);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const report = json(r);
    assert.deepEqual([report.runs, report.items, report.failedItems, report.skipped, report.notes], [2, 3, 1, [], []]);
    assert.equal(await q(runsSql), runsBefore);
    assert.equal(await q(itemsSql), itemsBefore);
    // The run that wrote no file left no manifest: the rebuild cannot know it, and says so.
    assert.deepEqual(report.withoutManifest, [[nothing.id, nothing.id]]);
    const text = await box.batt(['catalog', 'rebuild', box.out]);
    assert.equal(text.exitCode, 0, text.stdout);
    assert.match(text.stdout, new RegExp(`no manifest names run ${nothing.id}: a run that wrote no file`));
    assert.match(text.stdout, /2 runs, 3 backups, 1 failed items/);
  });

  it("a manifest of an older batt still rebuilds, with the run's times, and says so", async () => {
    const runId = ok.id;
    assert.equal(await q(`select status from runs where id = ${runId}`), 'ok');
    const path = join(box.out, 'file', `batt-run-${runId}.json`);
    const manifest = JSON.parse(readFileSync(path, 'utf8'));
    const older = { ...manifest, items: manifest.items.map(({ startedAt, finishedAt, ...rest }: any) => rest) };
    delete older.failed;
    writeFileSync(path, JSON.stringify(older, null, 2));
    dropCatalog();
    const r = await box.batt(['catalog', 'rebuild', box.out, '--json']);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.deepEqual(
      json(r).notes.map((n: any) => n.file),
      [path],
    );
    assert.match(json(r).notes[0].note, /older batt, records no item times \(its items get the run's start and end\)/);
    assert.equal(await q(`select distinct started_at from items where run_id = ${runId}`), manifest.run.startedAt);
  });

  it('a run whose files are all gone is left out with its failures, and the rebuild says so', async () => {
    const runId = partial.id;
    assert.equal(await q(`select status from runs where id = ${runId}`), 'partial');
    const file = await q(`select file from items where run_id = ${runId} and status = 'ok'`);
    writeFileSync(file, 'garbage');
    dropCatalog();
    const r = await box.batt(['catalog', 'rebuild', box.out, '--json']);
    assert.equal(r.exitCode, 1, r.stdout + r.stderr);
    const why = json(r).skipped.map((s: any) => s.why);
    assert.equal(why.length, 2, why.join('\n'));
    assert.match(why[0], /bytes on disk/);
    assert.match(why[1], new RegExp(`run ${runId} \\(partial\\) left out: none of its backup files is intact, so its 1 failed item\\(s\\) are not taken in either`));
    assert.equal(await q(`select count(*) from runs where id = ${runId}`), '0');
  });
});

describe('run ids survive a lost catalog and a shared folder', () => {
  const box = sandboxFor('each');

  it('after the catalog is lost, the next run into the same folder takes a new id; a rebuild finds both runs', async () => {
    const data = box.folder('data', { a: 'alpha' });
    const dest = join(box.out, 'same');
    const first = json(await box.batt(['--file', data, '--path', dest, '--json']));
    for (const s of ['', '-wal', '-shm']) rmSync(join(box.home, `catalog.db${s}`), { force: true });
    const second = json(await box.batt(['--file', data, '--path', dest, '--json']));
    assert.equal(second.status, 'ok');
    assert.ok(second.id > first.id, `run ${second.id} after run ${first.id}`);
    const folder = join(dest, 'file');
    const manifests = readdirSync(folder)
      .filter((n) => n.startsWith('batt-run-'))
      .sort();
    assert.deepEqual(manifests, [`batt-run-${first.id}.json`, `batt-run-${second.id}.json`].sort());
    assert.equal(JSON.parse(readFileSync(join(folder, `batt-run-${first.id}.json`), 'utf8')).run.id, first.id, "the first run's manifest is its own still");
    for (const s of ['', '-wal', '-shm']) rmSync(join(box.home, `catalog.db${s}`), { force: true });
    const rebuilt = json(await box.batt(['catalog', 'rebuild', box.out, '--json']));
    assert.equal(rebuilt.runs, 2);
    const ids = json<any[]>(await box.batt(['runs', '--json']))
      .map((r) => r.id)
      .sort((a, b) => a - b);
    assert.deepEqual(ids, [first.id, second.id]);
    for (const id of ids) assert.equal((await box.batt(['verify', String(id)])).exitCode, 0);
  });

  it("two homes backing up into one folder never replace each other's manifest", async () => {
    const other = sandbox();
    try {
      const data = box.folder('data', { a: 'alpha' });
      const dest = join(box.out, 'shared');
      const mine = json(await box.batt(['--file', data, '--path', dest, '--json']));
      const theirs = json(await other.batt(['--file', data, '--path', dest, '--json']));
      const again = json(await box.batt(['--file', data, '--path', dest, '--json']));
      const ids = [mine.id, theirs.id, again.id];
      assert.equal(new Set(ids).size, 3, `ids ${ids.join(', ')}`);
      const folder = join(dest, 'file');
      for (const id of ids) assert.ok(readdirSync(folder).includes(`batt-run-${id}.json`), `batt-run-${id}.json is there`);
      assert.equal((await execa('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: folder })).exitCode, 0);
    } finally {
      other.cleanup();
    }
  });
});
