/**
 * Crash safety (docs/guarantees.md): whatever moment batt dies at, the next run leaves the disk,
 * SHA256SUMS, the manifests and the catalog agreeing again, without a manual step.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { afterEach, before, beforeEach, describe, it } from 'node:test';
import { execa } from 'execa';
import { battBin, json, type Sandbox, sandboxFor, withData } from '../lib/batt.js';
import { forSuite, startMariaDb } from '../lib/servers.js';

const sql = async (box: Sandbox, q: string): Promise<string> => (await execa('sqlite3', [join(box.home, 'catalog.db'), q])).stdout.trim();

/** Every file below `dir`. */
function filesBelow(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesBelow(join(dir, e.name)) : [join(dir, e.name)]));
}

/** What must hold after any crash and the run after it. */
async function agree(box: Sandbox): Promise<void> {
  const files = filesBelow(box.out);
  assert.deepEqual(
    files.filter((f) => basename(f).startsWith('.batt-')),
    [],
    'no temporary file is left',
  );
  const okRows = (await sql(box, "select file || '|' || bytes from items where status = 'ok' and file is not null")).split('\n').filter(Boolean);
  const okFiles = new Set(okRows.map((r) => r.split('|')[0]));
  for (const row of okRows) {
    const [file, bytes] = row.split('|');
    assert.ok(existsSync(file), `the ok row's file ${file} is there`);
    assert.equal(statSync(file).size, Number(bytes), `${file} is whole`);
  }
  for (const file of files) {
    const name = basename(file);
    if (name === 'SHA256SUMS' || /^batt-run-\d+\.json$/.test(name)) continue;
    assert.ok(okFiles.has(file), `${file} under a final name has an ok catalog row`);
    // Its SHA256SUMS and manifest are in its folder, or (a drop-in script's sub-folders) above it.
    let folder = dirname(file);
    while (!existsSync(join(folder, 'SHA256SUMS')) && folder.startsWith(`${box.out}/`)) folder = dirname(folder);
    const rel = file.slice(folder.length + 1);
    const sums = existsSync(join(folder, 'SHA256SUMS')) ? readFileSync(join(folder, 'SHA256SUMS'), 'utf8') : '';
    assert.ok(
      sums.split('\n').some((l) => l.endsWith(`  ${rel}`)),
      `${file} has its SHA256SUMS line`,
    );
    const manifests = readdirSync(folder)
      .filter((n) => /^batt-run-\d+\.json$/.test(n))
      .map((n) => readFileSync(join(folder, n), 'utf8'));
    assert.ok(
      manifests.some((m) => (JSON.parse(m).items as any[]).some((i) => i.name === rel)),
      `${file} is in a manifest`,
    );
    if (name.endsWith('.zst')) assert.equal((await execa('zstd', ['-tq', file], { reject: false })).exitCode, 0, `${file} decompresses whole`);
  }
  for (const folder of new Set(files.map((f) => dirname(f)))) {
    if (!existsSync(join(folder, 'SHA256SUMS'))) continue;
    assert.equal((await execa('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: folder, reject: false })).exitCode, 0, `SHA256SUMS in ${folder} checks`);
  }
  const verify = await box.batt(['verify', '--all']);
  assert.equal(verify.exitCode, 0, `verify: ${verify.stdout}${verify.stderr}`);
}

describe('a killed run is finished or undone by the next one', () => {
  let box: Sandbox;
  let data: string;
  beforeEach(() => ({ box, data } = withData({ a: 'alpha'.repeat(100) })));
  afterEach(() => box.cleanup());

  // The state a kill leaves between writing an item's manifest and its catalog row: the run and
  // the item marked aborted, the item's row without its file (as markAbortedRuns leaves them).
  const killedAfterManifest = async (): Promise<{ id: number; file: string }> => {
    const r = json(await box.batt(['--file', data, '--json']));
    await sql(box, `update runs set status = 'aborted' where id = ${r.id}; update items set status = 'aborted', file = null, bytes = null, sha256 = null where run_id = ${r.id}`);
    return { id: r.id, file: r.items[0].file };
  };

  it('a file placed and in its manifest is taken back as ok, and verifies', async () => {
    const killed = await killedAfterManifest();
    const next = await box.batt(['--file', box.folder('other', { b: 'b' }), '--json']);
    assert.equal(next.exitCode, 0, next.stderr);
    assert.match(readFileSync(join(box.home, 'logs', readdirSync(join(box.home, 'logs'))[0]), 'utf8'), new RegExp(`took back ${killed.file}`));
    assert.equal(await sql(box, `select status || ' ' || file from items where run_id = ${killed.id}`), `ok ${killed.file}`);
    assert.equal((await box.batt(['verify', String(killed.id)])).exitCode, 0);
    await agree(box);
  });

  it('a file placed but in no manifest or SHA256SUMS is removed; a damaged one is not taken back', async () => {
    const killed = await killedAfterManifest();
    const folder = dirname(killed.file);
    // Killed before its manifest and SHA256SUMS line were written.
    rmSync(join(folder, `batt-run-${killed.id}.json`));
    writeFileSync(join(folder, 'SHA256SUMS'), '');
    const second = await killedAfterManifest(); // into the same folder: a new name beside it
    writeFileSync(second.file, randomBytes(64)); // and this one changed after its manifest said otherwise
    const next = await box.batt(['--file', box.folder('other', { b: 'b' }), '--json']);
    assert.equal(next.exitCode, 0, next.stderr);
    assert.equal(existsSync(killed.file), false, 'the unproven file is removed');
    assert.equal(existsSync(second.file), false, 'the damaged file is removed');
    assert.equal(await sql(box, `select count(*) from items where status = 'ok' and run_id in (${killed.id}, ${second.id})`), '0');
    await agree(box);
  });
});

describe("a drop-in script's run killed while batt placed its files", () => {
  const box = sandboxFor('each');

  it('the next run removes the files nothing records, and the staging folder a dead batt left', async () => {
    assert.equal((await box.batt(['list'])).exitCode, 0);
    writeFileSync(
      join(box.home, 'scripts-available', 'backup-notes'),
      '#!/bin/sh\nmkdir -p "$BATT_DEST/notes/sub"\necho one > "$BATT_DEST/notes/a.txt"\necho two > "$BATT_DEST/notes/sub/b.txt"\n',
      { mode: 0o755 },
    );
    const kept = json(await box.batt(['notes', '--json']));
    const r = json(await box.batt(['notes', '--json']));
    const folder = dirname(r.items[0].file);
    // What a kill after the files were placed, before anything recorded them, leaves: the rows of
    // a running script, no manifest, no SHA256SUMS lines; and a staging folder of a dead pid.
    const deadPid = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1;
    await sql(
      box,
      `delete from items where run_id = ${r.id}; update runs set status = 'aborted' where id = ${r.id}; insert into items (run_id, service, target, started_at, status, facts) select ${r.id}, 'notes', '*', started_at, 'aborted', '{"dropIn":true}' from runs where id = ${r.id}`,
    );
    rmSync(join(folder, `batt-run-${r.id}.json`));
    writeFileSync(
      join(folder, 'SHA256SUMS'),
      readFileSync(join(folder, 'SHA256SUMS'), 'utf8')
        .split('\n')
        .filter((l) => !r.items.some((i: any) => l.endsWith(`  ${(i.file as string).slice(folder.length + 1)}`)))
        .join('\n'),
    );
    (await import('node:fs')).mkdirSync(join(folder, `.batt-staging-${deadPid}-abc123`, 'notes'), { recursive: true });
    writeFileSync(join(folder, `.batt-staging-${deadPid}-abc123`, 'notes', 'half.txt'), 'half');
    const placed = r.items.map((i: any) => i.file as string);
    const next = await box.batt(['--file', box.folder('other', { c: 'c' }), '--json']);
    assert.equal(next.exitCode, 0, next.stderr);
    for (const file of placed) assert.equal(existsSync(file), false, `${file} is removed`);
    for (const item of kept.items) assert.equal(existsSync(item.file), true, `the earlier run's ${item.file} stays`);
    assert.equal(existsSync(join(folder, `.batt-staging-${deadPid}-abc123`)), false, "the dead batt's staging folder is removed");
    await agree(box);
  });
});

describe('SIGKILL at random moments of a MySQL and files backup', () => {
  const box = sandboxFor('all');
  const db = forSuite(() => startMariaDb({ user: ['batt', 'crash pw'] }));
  let data: string;
  before(async () => {
    // Enough rows that the dump takes a moment; one statement.
    await db.sql(
      'CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY, s VARCHAR(64)); SET SESSION max_recursive_iterations = 100000; INSERT INTO shop.t WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40000) SELECT i, md5(i) FROM n; CREATE DATABASE blog; CREATE TABLE blog.p (id INT); INSERT INTO blog.p VALUES (1),(2)',
    );
    data = box.folder('site', {});
    for (let i = 0; i < 40; i++) writeFileSync(join(data, `f${i}`), randomBytes(16 * 1024));
  });

  it('after each kill, the next run leaves no temporary file, no partial file, and every ok backup whole and listed', async () => {
    // A seeded sequence of moments: the same test every time, spread over the whole run.
    let seed = 20261203;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const args = ['--mysql-db', 'shop', '--mysql-db', 'blog', '--file', data, '-j', '2'];
    const started = Date.now();
    const whole = await box.batt([...args, '--json'], { env: db.env });
    assert.equal(whole.exitCode, 0, whole.stderr);
    const runMs = Date.now() - started;
    for (let i = 0; i < 12; i++) {
      const at = Math.round(random() * runMs);
      const run = execa(process.execPath, [battBin, '--home', box.home, ...args], { reject: false, extendEnv: false, env: box.env(db.env) });
      const timer = setTimeout(() => run.kill('SIGKILL'), at);
      await run;
      clearTimeout(timer);
      const next = await box.batt([...args, '--json'], { env: db.env });
      assert.equal(next.exitCode, 0, `after a kill at ${at} ms: ${next.stderr}`);
      await agree(box);
    }
  });
});
