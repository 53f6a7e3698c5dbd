/**
 * `--from <storage>` (restore, verify, verify --restore-test), the copies in `batt catalog check`
 * and in `batt runs`, with a local folder as the storage (docs/storage.md).
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { catalogIsWhole, json, sandbox, type Sandbox } from '../lib/batt.js';

const conf = (box: Sandbox): string => join(box.home, 'conf', 'batt.config.yaml');
const sql = async (box: Sandbox, q: string): Promise<string> => (await execa('sqlite3', [join(box.home, 'catalog.db'), q])).stdout.trim();
/** What is in the home's tmp/ (the scratch files of --from go there): nothing may stay. */
const scratch = (box: Sandbox): string[] => (existsSync(join(box.home, 'tmp')) ? readdirSync(join(box.home, 'tmp')) : []);
const listing = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();

describe('--from a storage, copies in catalog check and runs', () => {
  let box: Sandbox;
  let data: string;
  let offsite: string;
  let run: any;
  let copyKey: string;
  before(async () => {
    box = sandbox();
    data = box.folder('data', { 'a.txt': 'alpha\n'.repeat(1000), 'b.txt': 'beta' });
    offsite = join(box.dir, 'offsite');
    appendFileSync(conf(box), `storage:\n  - name: second-disk\n    type: local\n    path: ${JSON.stringify(offsite)}\n    prefix: "{host}"\n`);
    run = json(await box.batt(['--file', data, '--json']));
    assert.equal(run.status, 'ok');
    copyKey = json(await box.batt(['show', String(run.id), '--json'])).items[0].copies[0].key;
  });
  after(() => box.cleanup());

  it('restore --from reads the copy even though the local file is there (and damaged), writing nothing into the backup folder', async () => {
    const file = run.items[0].file;
    const good = readFileSync(file);
    const damaged = Buffer.from(good);
    damaged[damaged.length >> 1] ^= 0xff;
    writeFileSync(file, damaged);
    try {
      const folder = dirname(file);
      const before = listing(folder);
      const plain = await box.batt(['restore', String(run.id), 'file', '--to', join(box.dir, 'plain')]);
      assert.equal(plain.exitCode, 1, 'without --from the damaged local file is refused');
      assert.match(plain.stderr, /does not match its SHA-256/);
      const to = join(box.dir, 'from-copy');
      const r = await box.batt(['restore', String(run.id), 'file', '--to', to, '--from', 'second-disk']);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`from second-disk: ${copyKey.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      assert.equal(readFileSync(join(to, data.replace(/^\//, ''), 'a.txt'), 'utf8'), 'alpha\n'.repeat(1000));
      assert.deepEqual(listing(folder), before, 'nothing was written into the backup folder');
      assert.deepEqual(readFileSync(file), damaged, 'the local file is left as it was');
      assert.deepEqual(scratch(box), [], 'the scratch file is gone');
    } finally {
      writeFileSync(file, good);
    }
  });

  it('verify --from and verify --restore-test --from check the copy and its SHA256SUMS in the storage', async () => {
    const file = run.items[0].file;
    const good = readFileSync(file);
    rmSync(file);
    try {
      const r = await box.batt(['verify', String(run.id), '--restore-test', '--from', 'second-disk', '--json']);
      assert.equal(r.exitCode, 0, r.stderr);
      const outcomes = json(r);
      assert.deepEqual(
        outcomes.map((o: { kind: string; ok: boolean }) => [o.kind, o.ok]),
        [
          ['verify', true],
          ['restore-test', true],
        ],
      );
      const checks = outcomes[0].checks as { name: string; ok: boolean; detail: string }[];
      assert.match(checks.find((c) => c.name === 'copy')!.detail, /read from second-disk/);
      assert.match(checks.find((c) => c.name === 'SHA256SUMS')!.detail, /lists the same SHA-256/);
      assert.equal(existsSync(file), false, 'the local file was not fetched back into the backup folder');
      assert.deepEqual(scratch(box), []);
    } finally {
      writeFileSync(file, good);
    }
  });

  it('a damaged copy fails verify --from and restore --from, naming the storage and key; the local file is untouched', async () => {
    const good = readFileSync(copyKey);
    writeFileSync(copyKey, Buffer.concat([good.subarray(0, -1), Buffer.from([good[good.length - 1] ^ 1])]));
    try {
      const v = await box.batt(['verify', String(run.id), '--from', 'second-disk']);
      assert.equal(v.exitCode, 1, v.stdout + v.stderr);
      assert.match(v.stdout, /the copy of .* in second-disk \(.*\) cannot be used: it does not match the catalog/);
      const r = await box.batt(['restore', String(run.id), 'file', '--to', join(box.dir, 'nope'), '--from', 'second-disk']);
      assert.equal(r.exitCode, 1, r.stderr);
      assert.match(r.stderr, /second-disk/);
      assert.equal(existsSync(join(box.dir, 'nope')), false, 'nothing restored');
      assert.deepEqual(scratch(box), []);
      assert.equal((await box.batt(['verify', String(run.id)])).exitCode, 0, 'the local file still verifies');
    } finally {
      writeFileSync(copyKey, good);
    }
  });

  it('a storage without a copy, or one the configuration does not name, is refused with exit 2 before anything is read', async () => {
    const second = json(await box.batt(['--file', data, '--json']));
    await sql(box, `delete from copies where item_id in (select id from items where run_id = ${second.id})`);
    for (const command of [
      ['restore', String(second.id), 'file', '--to', join(box.dir, 'none')],
      ['verify', String(second.id)],
      ['verify', String(second.id), '--restore-test'],
    ]) {
      const r = await box.batt([...command, '--from', 'second-disk']);
      assert.equal(r.exitCode, 2, `${command.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`the storage "second-disk" has no copy of run ${second.id}'s file backup of`));
    }
    const unknown = await box.batt(['verify', String(run.id), '--from', 'nowhere']);
    assert.equal(unknown.exitCode, 2);
    assert.match(unknown.stderr, /names no storage "nowhere".*\n.*second-disk/);
    assert.equal(existsSync(join(box.dir, 'none')), false);
    assert.equal(await sql(box, `select count(*) from checks where item_id in (select id from items where run_id = ${second.id})`), '0', 'no check was recorded');
  });

  it('runs shows the copies: per run and storage in --json, a COPIES column in the table', async () => {
    const runs = json<{ id: number; copies: number; copiesByStorage: Record<string, number> }[]>(await box.batt(['runs', '--json']));
    const first = runs.find((r) => r.id === run.id)!;
    assert.equal(first.copies, 1);
    assert.deepEqual(first.copiesByStorage, { 'second-disk': 1 });
    const stripped = runs.find((r) => r.id !== run.id)!;
    assert.equal(stripped.copies, 0, 'the run whose copy rows were removed has none');
    const table = (await box.batt(['runs'])).stdout;
    assert.match(table, /RUN\s+STARTED\s+STATUS\s+ITEMS\s+SIZE\s+TOOK\s+VERIFIED\s+COPIES\s+SERVICES/);
    assert.match(table, new RegExp(`^${run.id}\\s.*\\ssecond-disk 1\\s+file$`, 'm'));
    assert.match(table, new RegExp(`^${stripped.id}\\s.*\\s-\\s+file$`, 'm'));
  });

  it('catalog check checks every copy: missing, wrong size, wrong SHA-256 (not with --quick)', async () => {
    const clean = await catalogIsWhole(box);
    assert.match(clean.stdout, /and 1 copy checked by size and SHA-256/);
    const good = readFileSync(copyKey);
    const flipped = Buffer.from(good);
    flipped[0] ^= 0xff;
    const problems = async (args: string[] = []): Promise<{ code: number; problems: { kind: string; storage?: string; key?: string; detail: string }[] }> => {
      const r = await box.batt(['catalog', 'check', '--json', ...args]);
      return { code: r.exitCode, problems: json(r).problems };
    };
    try {
      writeFileSync(copyKey, flipped);
      const sha = await problems();
      assert.equal(sha.code, 1);
      assert.deepEqual(
        sha.problems.map((p) => [p.kind, p.storage, p.key]),
        [['copy-sha256', 'second-disk', copyKey]],
      );
      assert.deepEqual(await problems(['--quick']), { code: 0, problems: [] }, '--quick compares sizes only');
      truncateSync(copyKey, good.length - 3);
      const size = await problems(['--quick']);
      assert.equal(size.code, 1);
      assert.deepEqual(
        size.problems.map((p) => p.kind),
        ['copy-size'],
      );
      assert.match(size.problems[0].detail, new RegExp(`second-disk: .* has ${good.length - 3} bytes, the catalog ${good.length}`));
      rmSync(copyKey);
      const text = await box.batt(['catalog', 'check']);
      assert.equal(text.exitCode, 1);
      assert.match(text.stdout, /copy-missing {2}.*\(run \d+\)\n {4}second-disk: .* is gone from the storage/);
      assert.match(text.stdout, /1 problem/);
    } finally {
      writeFileSync(copyKey, good);
    }
    await catalogIsWhole(box);
  });
});
