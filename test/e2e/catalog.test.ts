import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { json, sandbox, type Sandbox } from '../lib/batt.js';

describe('the catalog', () => {
  let box: Sandbox;
  let data: string;
  before(() => {
    box = sandbox();
    data = box.folder('data', { x: 'x'.repeat(1000) });
  });
  after(() => box.cleanup());

  it('records runs and items that sqlite3 can read, in WAL mode, 0600', async () => {
    const ok = json(await box.batt(['--file', data, '--path', box.out, '--json']));
    const partial = json(await box.batt(['--file', data, '--file', join(box.dir, 'nope'), '--path', box.out, '--json']));
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
    assert.ok(all.length >= 2);
    assert.ok(all[0].id > all[1].id);
    const partial = json<any[]>(await box.batt(['runs', '--status', 'partial', '--json']));
    assert.ok(partial.length >= 1 && partial.every((r) => r.status === 'partial'));
    assert.deepEqual(json<any[]>(await box.batt(['runs', '--service', 'nosuch', '--json'])), []);
    assert.equal(json<any[]>(await box.batt(['runs', '--last', '1', '--json'])).length, 1);
    const table = await box.batt(['runs']);
    assert.match(table.stdout, /RUN\s+STARTED\s+STATUS/);
    assert.match(table.stdout, /partial/);
  });

  it('shows a run: items, files, bytes, sha256, errors', async () => {
    const shown = await box.batt(['show', 'latest']);
    assert.equal(shown.exitCode, 0, shown.stderr);
    assert.match(shown.stdout, /sha256\s+[0-9a-f]{64}/);
    assert.match(shown.stdout, /error\s+.*does not exist/);
    const j = json(await box.batt(['show', 'latest', '--json']));
    assert.equal(j.items.length, 2);
  });

  it('writes a manifest beside the artifacts that matches the catalog', async () => {
    const latest = json(await box.batt(['show', 'latest', '--json']));
    const ok = latest.items.find((i: any) => i.status === 'ok');
    const manifest = JSON.parse((await import('node:fs')).readFileSync(join(box.out, 'file', `batt-run-${latest.id}.json`), 'utf8'));
    assert.equal(manifest.run.id, latest.id);
    assert.deepEqual(manifest.items.map((i: any) => [i.file, i.sha256, i.bytes]), [[ok.file, ok.sha256, ok.bytes]]);
  });
});
