/**
 * Retention end to end: real backups on real files, their catalog dates spread over days with
 * sqlite3 (the history a real host builds over weeks), then real prunes, purges, bundles, catalog
 * checks and rebuilds, checked on disk and in the catalog.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { afterEach, before, beforeEach, describe, it } from 'node:test';
import { execa } from 'execa';
import { humanBytes } from '@batt/core/text/names';
import { catalogIsWhole, json, logLines, type Sandbox, sandbox, sandboxFor } from '../lib/batt.js';

const DAY = 86_400_000;

async function sql(box: Sandbox, statement: string): Promise<string> {
  return (await execa('sqlite3', [join(box.home, 'catalog.db'), statement])).stdout.trim();
}

/** Backs `folder` up once into a folder of its own; returns the run id and artifact. */
async function backup(box: Sandbox, folder: string, extra: string[] = []): Promise<{ id: number; file?: string; status: string; suspect?: string }> {
  // A folder per run, under a dated pattern as in real use: box.out is the fixed root.
  const r = json(await box.batt(['--file', folder, '--path', join(box.out, `b-${randomBytes(4).toString('hex')}-%Y`), '--json', ...extra]));
  return { id: r.id, file: r.items[0].file, status: r.items[0].status, suspect: r.items[0].suspect };
}

/** `count` backups of `folder`, one after another (each its own run), oldest first. */
async function backups(box: Sandbox, folder: string, count: number): Promise<Awaited<ReturnType<typeof backup>>[]> {
  const made = [];
  for (let i = 0; i < count; i++) made.push(await backup(box, folder));
  return made;
}

/** Moves a run (and its items) to `daysAgo` days before now, as if it had run then. */
async function age(box: Sandbox, runId: number, daysAgo: number): Promise<void> {
  const at = new Date(Date.now() - daysAgo * DAY).toISOString();
  await sql(box, `update runs set started_at = '${at}' where id = ${runId}; update items set started_at = '${at}' where run_id = ${runId};`);
}

const sumsOk = async (folder: string): Promise<void> => {
  await execa('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: folder });
};

describe('prune', () => {
  const box = sandboxFor('all');
  let data: string;
  let reset: () => void;
  const runs: { id: number; file: string }[] = [];
  before(async () => {
    data = box.folder('data', { a: 'alpha'.repeat(100), b: 'beta' });
    // Ten daily backups, the newest today.
    for (let i = 0; i < 10; i++) {
      const r = await backup(box, data);
      runs.push({ id: r.id, file: r.file! });
    }
    for (let i = 0; i < runs.length; i++) await age(box, runs[i].id, runs.length - 1 - i + 0.01);
    reset = box.checkpoint();
  });
  // Every test starts from the ten backups, whatever the one before it removed.
  beforeEach(() => reset());

  it('refuses to run without a keep rule, and bad rules, with exit 2', async () => {
    const none = await box.batt(['prune']);
    assert.equal(none.exitCode, 2);
    assert.match(none.stderr, /no keep rule for file/);
    assert.match(none.stderr, /--keep-daily 7/);
    const zero = await box.batt(['prune', '--keep-daily', '0']);
    assert.equal(zero.exitCode, 2);
    assert.match(zero.stderr, /--keep-daily must be a whole number of at least 1, got 0/);
    const within = await box.batt(['prune', '--keep-within', 'a while']);
    assert.equal(within.exitCode, 2);
    assert.match(within.stderr, /--keep-within takes an age such as 30d/);
    assert.doesNotMatch(within.stderr, /at .*\.js:\d+/);
  });

  it('--dry-run says what would go and why each kept backup stays, and changes nothing', async () => {
    const before = await sql(box, 'select count(*) from items');
    const plan = json(await box.batt(['prune', '--keep-daily', '3', '--keep-weekly', '2', '--dry-run', '--json']));
    const kept = plan.backups
      .filter((b: any) => b.keep)
      .map((b: any) => b.runId)
      .sort((a: number, b: number) => a - b);
    // Three newest days, plus the newest backup of the previous ISO week (a week has 7 days,
    // so among ten daily backups two weeks are always present).
    assert.ok(kept.includes(runs[9].id) && kept.includes(runs[8].id) && kept.includes(runs[7].id));
    const newest = plan.backups.find((b: any) => b.runId === runs[9].id);
    assert.ok(
      newest.reasons.some((r: string) => r.startsWith('daily ')),
      newest.reasons.join(','),
    );
    assert.ok(
      newest.reasons.some((r: string) => r.startsWith('weekly ')),
      newest.reasons.join(','),
    );
    // An independent reference (batt runs with TZ=UTC): the newest backup of each of the 3 newest
    // days and of each of the 2 newest ISO weeks that have one.
    const started = new Map(
      (await sql(box, 'select run_id, started_at from items'))
        .split('\n')
        .map((l) => l.split('|'))
        .map(([id, at]) => [Number(id), at]),
    );
    const isoWeek = (at: string): string => {
      const d = new Date(at);
      const thursday = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - ((d.getUTCDay() + 6) % 7) + 3));
      return `${thursday.getUTCFullYear()}-${Math.ceil(((thursday.getTime() - Date.UTC(thursday.getUTCFullYear(), 0, 1)) / DAY + 1) / 7)}`;
    };
    const newestPer = (key: (at: string) => string, n: number): number[] => {
      const seen = new Map<string, number>();
      for (const r of [...runs].sort((x, y) => started.get(y.id)!.localeCompare(started.get(x.id)!))) {
        const k = key(started.get(r.id)!);
        if (!seen.has(k) && seen.size < n) seen.set(k, r.id);
      }
      return [...seen.values()];
    };
    const expected = [...new Set([...newestPer((at) => at.slice(0, 10), 3), ...newestPer(isoWeek, 2)])].sort((a, b) => a - b);
    assert.deepEqual(kept, expected);
    assert.equal(plan.remove, runs.length - expected.length);
    assert.equal(await sql(box, 'select count(*) from items'), before);
    for (const r of runs) assert.ok(existsSync(r.file));
    const text = await box.batt(['prune', '--keep-daily', '3', '--dry-run']);
    assert.equal(text.exitCode, 0, text.stderr);
    assert.match(text.stdout, /dry run: nothing is removed/);
    assert.match(text.stdout, /keep\s+run \d+ .* daily \d{4}-\d\d-\d\d/);
    assert.match(text.stdout, /remove\s+run \d+ .* not kept by any rule/);
    assert.match(text.stdout, /would remove 7 backups/);
  });

  it('removes files, SHA256SUMS lines, manifests, catalog rows and emptied folders together', async () => {
    const logged = logLines(box).length;
    const sizes = runs.map((run) => statSync(run.file).size);
    const r = await box.batt(['prune', '--keep-last', '4', '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    const result = json(r);
    assert.equal(result.removed, 6);
    // The log hears the prune's events: its rules, each removal, what went and what stays.
    assert.deepEqual(logLines(box).slice(logged), [
      'info [prune] rules file: --keep-last 4',
      ...runs.slice(0, 6).map((run, i) => `info [prune] removed file ${data} of run ${run.id}: ${run.file} (${humanBytes(sizes[i])})`),
      `info [prune] removed 6 backups (${humanBytes(sizes.slice(0, 6).reduce((a, b) => a + b, 0))}), kept 4`,
    ]);
    for (const [i, run] of runs.entries()) {
      const kept = i >= 6;
      assert.equal(existsSync(run.file), kept, `run ${run.id}`);
      assert.equal(existsSync(join(dirname(run.file), `batt-run-${run.id}.json`)), kept);
      // Each run had a folder of its own: the emptied ones are gone, up to the destination root.
      assert.equal(existsSync(dirname(dirname(run.file))), kept);
      if (kept) await sumsOk(dirname(run.file));
    }
    assert.equal(
      await sql(box, 'select group_concat(id) from runs order by id'),
      runs
        .slice(6)
        .map((x) => x.id)
        .join(','),
    );
    assert.equal(await sql(box, "select count(*) from prunes where status = 'ok' and removed = 6"), '1');
    const check = await catalogIsWhole(box);
    assert.match(check.stdout, /4 files .* all present and matching, no orphans/);
  });

  it('never removes the newest good backup, whatever the rules', async () => {
    // Every backup older than a day: the newest (5 days) is the only one kept.
    for (const [i, run] of runs.entries()) await age(box, run.id, 14 - i);
    const r = json(await box.batt(['prune', '--keep-within', '1d', '--json']));
    assert.deepEqual(
      r.backups.filter((b: any) => b.keep).map((b: any) => b.runId),
      [runs[9].id],
    );
    assert.ok(existsSync(runs[9].file));
    for (const run of runs.slice(0, 9)) assert.ok(!existsSync(run.file), `run ${run.id} removed`);
    assert.match(r.backups.find((b: any) => b.keep).reasons.join(','), /newest good backup/);
  });
});

describe('prune counts only good backups', () => {
  const box = sandboxFor('each');

  it('failed backups never push good ones out', async () => {
    const data = box.folder('gone', { x: 'x' });
    const good = [await backup(box, data), await backup(box, data)];
    rmSync(data, { recursive: true });
    const failed: Awaited<ReturnType<typeof backup>>[] = [];
    for (let i = 0; i < 4; i++) failed.push(await backup(box, data));
    assert.ok(failed.every((f) => f.status === 'failed'));
    const r = json(await box.batt(['prune', '--keep-last', '2', '--json']));
    const kept = r.backups.filter((b: any) => b.keep).map((b: any) => b.runId);
    assert.deepEqual(kept.sort(), [good[0].id, good[1].id, ...failed.map((f) => f.id)].sort(), 'the failed ones are newer than the oldest kept good one');
    assert.ok(good.every((g) => existsSync(g.file!)));
    assert.match(r.backups.find((b: any) => b.runId === failed[0].id).reasons.join(), /failed: not counted/);
    // A failed run older than every kept good backup goes (it is only a catalog row).
    await age(box, failed[0].id, 30);
    const again = json(await box.batt(['prune', '--keep-last', '2', '--json']));
    assert.equal(again.removed, 1);
    assert.equal(await sql(box, `select count(*) from runs where id = ${failed[0].id}`), '0');
  });

  it('marks a backup whose size falls sharply as suspect; retention does not count it', async () => {
    const data = box.folder('shrinks', {});
    writeFileSync(join(data, 'big'), randomBytes(300 * 1024));
    const good = await backups(box, data, 3);
    assert.ok(good.every((g) => !g.suspect));
    writeFileSync(join(data, 'big'), 'tiny');
    const r = await box.batt(['--file', data, '--path', join(box.out, 'shrunk')]);
    assert.equal(r.exitCode, 3, r.stderr);
    assert.match(r.stderr, /SUSPECT: size .* of the usual \d+\.\d KiB/);
    assert.match(r.stdout, /^suspect\s+file/m);
    const runsTable = await box.batt(['runs', '--last', '1']);
    assert.match(runsTable.stdout, /suspect/);
    const shown = await box.batt(['show', 'latest']);
    assert.match(shown.stdout, /suspect size .* KiB \(retention does not count it as good\)/);
    const suspectRun = json(await box.batt(['show', 'latest', '--json']));
    const p = json(await box.batt(['prune', 'file', '--target', data, '--keep-last', '1', '--json']));
    const byRun = new Map(p.backups.map((b: any) => [b.runId, b]));
    assert.equal((byRun.get(suspectRun.id) as any).keep, true);
    assert.equal((byRun.get(suspectRun.id) as any).kind, 'suspect');
    assert.equal((byRun.get(good[2].id) as any).keep, true, 'the newest good one stays: the suspect one does not count');
    assert.equal((byRun.get(good[0].id) as any).keep, false);
    assert.ok(existsSync(good[2].file!) && !existsSync(good[0].file!));
  });

  it('leaves a backup alone while a live restore or verify holds it', async () => {
    const data = box.folder('held', { h: 'h' });
    const held = await backup(box, data);
    await backup(box, data);
    const itemId = await sql(box, `select id from items where run_id = ${held.id}`);
    await sql(box, `insert into checks (item_id, kind, started_at, status, pid) values (${itemId}, 'restore', '${new Date().toISOString()}', 'running', ${process.pid})`);
    const r = json(await box.batt(['prune', 'file', '--target', data, '--keep-last', '1', '--json']));
    const b = r.backups.find((x: any) => x.runId === held.id);
    assert.equal(b.keep, true);
    assert.match(b.reasons.join(), new RegExp(`in use by a restore \\(pid ${process.pid}\\)`));
    assert.ok(existsSync(held.file!));
    // Once that batt is gone, the claim is stale and the next prune removes it.
    // A pid above the kernel's pid_max: no process can have it.
    const deadPid = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1;
    await sql(box, `update checks set pid = ${deadPid} where item_id = ${itemId}`);
    json(await box.batt(['prune', 'file', '--target', data, '--keep-last', '1', '--json']));
    assert.ok(!existsSync(held.file!));
  });
});

describe('an interrupted prune', () => {
  const box = sandboxFor('each');

  it('is finished by the next prune: no row without its file, no file without its row', async () => {
    const data = box.folder('d', { d: 'd' });
    const b = await backups(box, data, 3);
    // The state a prune killed between deleting one file and the next leaves behind: both items
    // marked with its id, one file already gone, the catalog rows still there.
    await sql(box, `insert into prunes (started_at, status, rules, pid) values ('${new Date().toISOString()}', 'running', 'file: --keep-last 1', 999999)`);
    await sql(box, `update items set prune_id = (select max(id) from prunes) where run_id in (${b[0].id}, ${b[1].id})`);
    rmSync(b[0].file!);
    const check = await box.batt(['catalog', 'check', '--json']);
    assert.equal(check.exitCode, 1);
    assert.deepEqual(
      json(check)
        .problems.map((p: any) => p.kind)
        .sort(),
      ['pruning', 'pruning'],
    );
    // Restore does not pick a backup that is being pruned.
    const restore = await box.batt(['restore', String(b[1].id), 'file', '--to', join(box.dir, 'r')]);
    assert.equal(restore.exitCode, 2);
    assert.match(restore.stderr, /no good file backup in run/);

    const r = await box.batt(['prune', '--keep-last', '5']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stderr, /finished prune \d+, which was interrupted: 2 backups removed/);
    assert.ok(!existsSync(b[1].file!));
    assert.ok(existsSync(b[2].file!));
    assert.equal(await sql(box, 'select group_concat(id) from runs'), String(b[2].id));
    assert.equal(await sql(box, "select count(*) from prunes where status = 'running'"), '0');
    await catalogIsWhole(box);
  });
});

describe('prune never loses a backup to a crash, a streak or a missing disk', () => {
  const box = sandboxFor('each');

  it('a backup finishes an interrupted prune first, and never loses its new file to it', async () => {
    const data = box.folder('same', { s: 's' });
    const path = join(box.out, 'fixed');
    const one = json(await box.batt(['--file', data, '--path', path, '--json']));
    const file = one.items[0].file;
    // A prune marked run 1 and deleted its file, then died.
    await sql(box, `insert into prunes (started_at, status, rules, pid) values ('${new Date().toISOString()}', 'running', 'file: --keep-last 1', 999999)`);
    await sql(box, `update items set prune_id = (select max(id) from prunes) where run_id = ${one.id}`);
    rmSync(file);
    // The next backup writes the same name: the prune is finished before that happens.
    const two = await box.batt(['--file', data, '--path', path, '--json']);
    assert.equal(two.exitCode, 0, two.stderr);
    assert.match(two.stderr, /finished prune \d+, which was interrupted: 1 backups removed/);
    const second = json(two);
    assert.equal(second.items[0].file, file, 'the name was free again');
    assert.ok(existsSync(file));
    await sumsOk(dirname(file));
    await catalogIsWhole(box);
    // Even a prune row left behind for a path a newer item now holds does not touch the file.
    await sql(
      box,
      `insert into items (run_id, service, target, file, bytes, sha256, started_at, status, prune_id) select run_id, service, target, file, bytes, sha256, started_at, 'ok', 4242 from items where run_id = ${second.id}`,
    );
    await sql(box, `insert into prunes (id, started_at, status, rules, pid) values (4242, '${new Date().toISOString()}', 'running', 'x', 999999)`);
    const p = await box.batt(['prune', '--keep-last', '5']);
    assert.equal(p.exitCode, 0, p.stderr);
    assert.ok(existsSync(file));
    await catalogIsWhole(box);
  });

  it('a streak of suspect backups does not become good by itself; batt accept makes it so', async () => {
    const data = box.folder('streak', {});
    writeFileSync(join(data, 'big'), randomBytes(200 * 1024));
    const good = await backups(box, data, 3);
    writeFileSync(join(data, 'big'), 'small now');
    const small = await backups(box, data, 4);
    assert.deepEqual(
      small.map((s) => Boolean(s.suspect)),
      [true, true, true, true],
    );
    const plan = json(await box.batt(['prune', 'file', '--target', data, '--keep-last', '3', '--dry-run', '--json']));
    assert.deepEqual(
      plan.backups
        .filter((b: any) => b.kind === 'good' && b.keep)
        .map((b: any) => b.runId)
        .sort(),
      good.map((g) => g.id).sort(),
    );
    const accepted = await box.batt(['accept', String(small[3].id)]);
    assert.equal(accepted.exitCode, 0, accepted.stderr);
    assert.match(accepted.stdout, /accepted file .* as good \(was: size/);
    const next = await backup(box, data);
    assert.equal(next.suspect, undefined, 'compared with the accepted one');
    const none = await box.batt(['accept', String(next.id)]);
    assert.equal(none.exitCode, 2);
    assert.match(none.stderr, /has no suspect backup/);
  });

  it('a missing backup folder (an unmounted disk) stops the prune and keeps the rows', async () => {
    const data = box.folder('mount', { m: 'm' });
    const old = await backup(box, data);
    await backup(box, data);
    const folder = dirname(dirname(old.file!));
    const away = `${folder}.away`;
    (await import('node:fs')).renameSync(folder, away);
    const r = await box.batt(['prune', 'file', '--target', data, '--keep-last', '1']);
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /its folder .* is missing/);
    assert.match(r.stderr, /is the backup disk mounted/);
    assert.equal(await sql(box, `select count(*) from items where run_id = ${old.id} and prune_id is not null`), '1');
    (await import('node:fs')).renameSync(away, folder);
    const again = await box.batt(['prune', 'file', '--target', data, '--keep-last', '1']);
    assert.equal(again.exitCode, 0, again.stderr);
    assert.ok(!existsSync(old.file!));
    assert.equal(await sql(box, `select count(*) from items where run_id = ${old.id}`), '0');
  });
});

describe('purge, bundles, catalog check and rebuild', () => {
  let box: Sandbox;
  let data: string;
  beforeEach(() => {
    box = sandbox();
    data = box.folder('p', { p: 'payload'.repeat(50) });
  });
  afterEach(() => box.cleanup());

  it('purge --max-days N removes backups older than N days, keeping the newest good one', async () => {
    const b = await backups(box, data, 3);
    await age(box, b[0].id, 10);
    await age(box, b[1].id, 8);
    await age(box, b[2].id, 1);
    const dry = await box.batt(['purge', '--max-days', '7', '--dry-run']);
    assert.equal(dry.exitCode, 0, dry.stderr);
    assert.match(dry.stdout, /would remove 2 backups/);
    const r = json(await box.batt(['purge', '--max-days', '7', '--json']));
    assert.equal(r.removed, 2);
    assert.ok(!existsSync(b[0].file!) && !existsSync(b[1].file!) && existsSync(b[2].file!));
    const bad = await box.batt(['purge', '--max-days', '-3']);
    assert.equal(bad.exitCode, 2);
  });

  it('--bundle writes the run as one tar with a sha256sum file; prune removes it with the run', async () => {
    const r = json(await box.batt(['--file', data, '--path', join(box.out, 'bundled', '{service}'), '--bundle', '--json']));
    assert.equal(r.status, 'ok');
    assert.equal(r.bundle, join(box.out, 'bundled', `batt-run-${r.id}.tar`));
    await execa('sha256sum', ['-c', '--quiet', `batt-run-${r.id}.tar.sha256`], { cwd: dirname(r.bundle) });
    const listed = (await execa('tar', ['-tf', r.bundle])).stdout.split('\n').sort();
    assert.deepEqual(listed, [`file/${r.items[0].file.split('/').pop()}`, `file/batt-run-${r.id}.json`].sort());
    await catalogIsWhole(box);
    await age(box, r.id, 40);
    await backup(box, data);
    json(await box.batt(['prune', '--keep-last', '1', '--json']));
    assert.ok(!existsSync(r.bundle) && !existsSync(`${r.bundle}.sha256`));
  });

  it('catalog check finds missing and changed files and orphans', async () => {
    const a = await backup(box, data);
    const b = await backup(box, data);
    rmSync(a.file!);
    const bytes = readFileSync(b.file!);
    bytes[bytes.length - 5] ^= 0xff;
    writeFileSync(b.file!, bytes);
    writeFileSync(join(dirname(b.file!), '.batt-tmp-12345-abcdef'), 'half a backup');
    const r = await box.batt(['catalog', 'check', '--json']);
    assert.equal(r.exitCode, 1);
    const problems = json(r)
      .problems.map((p: any) => `${p.kind} ${p.file}`)
      .sort();
    assert.deepEqual(problems, [`missing ${a.file}`, `orphan ${join(dirname(b.file!), '.batt-tmp-12345-abcdef')}`, `sha256 ${b.file}`].sort());
    const quick = json(await box.batt(['catalog', 'check', '--quick', '--json']));
    assert.ok(!quick.problems.some((p: any) => p.kind === 'sha256'), 'sizes only');
  });

  it('catalog rebuild recreates runs and items from the manifests; restore works from it', async () => {
    const box2 = sandbox();
    try {
      const src = box2.folder('src', { one: '1', two: '2'.repeat(500) });
      const b = [await backup(box2, src), await backup(box2, src), await backup(box2, src)];
      const before = await execa('sqlite3', [join(box2.home, 'catalog.db'), 'select run_id, service, target, file, bytes, sha256 from items order by run_id']);
      rmSync(join(box2.home, 'catalog.db'));
      for (const s of ['-wal', '-shm']) rmSync(join(box2.home, `catalog.db${s}`), { force: true });
      // One artifact was damaged meanwhile: it is left out, and the rebuild says so.
      writeFileSync(b[0].file!, 'garbage');
      const r = await box2.batt(['catalog', 'rebuild', box2.out, '--json']);
      assert.equal(r.exitCode, 1, r.stderr);
      const report = json(r);
      assert.equal(report.runs, 2);
      assert.deepEqual(
        report.skipped.map((s: any) => s.file),
        [b[0].file],
      );
      const after = await execa('sqlite3', [join(box2.home, 'catalog.db'), 'select run_id, service, target, file, bytes, sha256 from items order by run_id']);
      assert.equal(after.stdout, before.stdout.split('\n').slice(1).join('\n'));
      const to = join(box2.dir, 'restored');
      const restore = await box2.batt(['restore', String(b[2].id), 'file', '--to', to]);
      assert.equal(restore.exitCode, 0, restore.stderr);
      assert.equal(readFileSync(join(to, src, 'two'), 'utf8'), '2'.repeat(500));
      // A rebuild over an existing catalog keeps the old one aside.
      const again = json(await box2.batt(['catalog', 'rebuild', box2.out, '--json']));
      assert.ok(again.previous && statSync(again.previous).size > 0);
      // Another host's manifests on a shared disk are left out; an older catalog's run with
      // the same id stays a run of its own.
      const manifestPath = join(dirname(b[1].file!), `batt-run-${b[1].id}.json`);
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
      writeFileSync(manifestPath, JSON.stringify({ ...manifest, run: { ...manifest.run, host: 'elsewhere' } }));
      const otherPath = join(dirname(b[2].file!), `batt-run-${b[2].id}.json`);
      const other = JSON.parse(readFileSync(otherPath, 'utf8'));
      const oldGen = join(box2.out, 'older-generation');
      (await import('node:fs')).mkdirSync(oldGen);
      (await import('node:fs')).copyFileSync(b[2].file!, join(oldGen, other.items[0].name));
      writeFileSync(join(oldGen, `batt-run-${b[2].id}.json`), JSON.stringify({ ...other, run: { ...other.run, startedAt: '2024-01-01T00:00:00.000Z' } }));
      const mixed = json(await box2.batt(['catalog', 'rebuild', box2.out, '--json']));
      assert.notEqual(mixed.previous, again.previous, "a second rebuild (maybe within the same second) keeps the first one's backup");
      assert.ok(statSync(again.previous).size > 0 && statSync(mixed.previous).size > 0);
      assert.ok(mixed.skipped.some((s: any) => s.file === manifestPath && /made on host elsewhere/.test(s.why)));
      const rows = (await execa('sqlite3', [join(box2.home, 'catalog.db'), `select id, started_at from runs order by started_at`])).stdout.split('\n');
      assert.deepEqual(rows, [`${b[2].id}|2024-01-01T00:00:00.000Z`, `${b[2].id + 1}|${other.run.startedAt}`]);
    } finally {
      box2.cleanup();
    }
  });
});

describe('retention with require_verified, and orphans', () => {
  const box = sandboxFor('each');

  it('counts only verified backups when require_verified is set', async () => {
    const data = box.folder('v', { v: 'v' });
    const b = await backups(box, data, 3);
    const config = join(box.dir, 'verified.yaml');
    writeFileSync(config, 'require_verified: true\n');
    // Only the oldest was verified: it is the one good backup, so the newer unverified ones are
    // kept as not counted and nothing goes.
    assert.equal((await box.batt(['verify', String(b[0].id)])).exitCode, 0);
    const plan = json(await box.batt(['prune', '--config', config, '--keep-last', '1', '--dry-run', '--json']));
    const kinds = Object.fromEntries(plan.backups.map((x: any) => [x.runId, `${x.kind} ${x.keep}`]));
    assert.deepEqual(kinds, { [b[0].id]: 'good true', [b[1].id]: 'unverified true', [b[2].id]: 'unverified true' });
    // Once the newest is verified, it is the one kept and the rest go.
    assert.equal((await box.batt(['verify', String(b[2].id)])).exitCode, 0);
    const r = json(await box.batt(['prune', '--config', config, '--keep-last', '1', '--json']));
    assert.deepEqual(
      r.backups.filter((x: any) => x.keep).map((x: any) => x.runId),
      [b[2].id],
    );
    assert.equal(r.removed, 2);
  });

  it('reports files in the folders it touched that the catalog does not know, and leaves them', async () => {
    const data = box.folder('o', { o: 'o' });
    const old = await backup(box, data);
    await backup(box, data);
    const stray = join(dirname(old.file!), 'notes.txt');
    writeFileSync(stray, 'mine');
    const r = json(await box.batt(['prune', 'file', '--target', data, '--keep-last', '1', '--json']));
    assert.deepEqual(r.orphans, [stray]);
    assert.ok(existsSync(stray) && !existsSync(old.file!));
  });
});

describe('retention from the config', () => {
  const box = sandboxFor('all');

  it('uses the service keep_* keys over the top level, and names a bad key', async () => {
    const data = box.folder('c', { c: 'c' });
    const b = await backups(box, data, 3);
    const config = join(box.dir, 'batt.config.yaml');
    writeFileSync(config, 'keep_last: 3\nfile:\n  keep_last: 1\n');
    const r = json(await box.batt(['prune', '--config', config, '--json']));
    assert.deepEqual(r.rules, { file: '--keep-last 1' });
    assert.equal(r.removed, 2);
    assert.ok(existsSync(b[2].file!) && !existsSync(b[1].file!));
    writeFileSync(config, 'keep_within: soon\n');
    const bad = await box.batt(['prune', '--config', config]);
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /keep_within takes an age such as 30d/);
  });
});

describe('SHA256SUMS covers the manifests too', () => {
  const box = sandboxFor('all');

  it("sha256sum -c checks every run's manifest in a shared folder, and still passes after prunes rewrite and remove them", async () => {
    const a = box.folder('a', { a: 'alpha'.repeat(100) });
    const b = box.folder('b', { b: 'beta' });
    const dest = join(box.out, 'shared');
    const folder = join(dest, 'file');
    const r1 = json(await box.batt(['--file', a, '--file', b, '--path', dest, '--json']));
    const r2 = json(await box.batt(['--file', a, '--file', b, '--path', dest, '--json']));
    const m1 = join(folder, `batt-run-${r1.id}.json`);
    const m2 = join(folder, `batt-run-${r2.id}.json`);
    const checked = async (): Promise<string[]> => (await execa('sha256sum', ['-c', 'SHA256SUMS'], { cwd: folder })).stdout.split('\n').sort();
    assert.deepEqual(
      await checked(),
      [...r1.items, ...r2.items]
        .map((i: any) => `${basename(i.file)}: OK`)
        .concat(`${basename(m1)}: OK`, `${basename(m2)}: OK`)
        .sort(),
    );

    // A manifest changed behind batt's back fails the check.
    const original = readFileSync(m1, 'utf8');
    writeFileSync(m1, original.replace('"items"', '"items" '));
    assert.equal((await execa('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: folder, reject: false })).exitCode, 1);
    writeFileSync(m1, original);

    // Pruning one target rewrites run 1's manifest: its line follows.
    const first = json(await box.batt(['prune', 'file', '--target', a, '--keep-last', '1', '--json']));
    assert.equal(first.removed, 1);
    assert.equal(JSON.parse(readFileSync(m1, 'utf8')).items.length, 1);
    assert.ok((await checked()).includes(`${basename(m1)}: OK`));
    // Pruning the other removes run 1's manifest, and its line with it.
    const second = json(await box.batt(['prune', 'file', '--target', b, '--keep-last', '1', '--json']));
    assert.equal(second.removed, 1);
    assert.ok(!existsSync(m1));
    assert.deepEqual(await checked(), [...r2.items.map((i: any) => `${basename(i.file)}: OK`), `${basename(m2)}: OK`].sort());

    // verify, catalog check and rebuild still agree with the folder.
    const verify = await box.batt(['verify', String(r2.id)]);
    assert.equal(verify.exitCode, 0, verify.stderr);
    const check = await catalogIsWhole(box);
    assert.match(check.stdout, /no orphans/);
    const rebuilt = await box.batt(['catalog', 'rebuild', box.out, '--json']);
    assert.equal(rebuilt.exitCode, 0, rebuilt.stdout);
    assert.deepEqual([json(rebuilt).runs, json(rebuilt).items], [1, 2]);
  });
});
