import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { storageConformance } from './conformance.js';
import { LocalStorage } from './local.js';
import { readText } from './storage.js';

storageConformance('local folder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'batt-storage-'));
  return { storage: new LocalStorage(), prefix: dir, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

describe('the local folder: new files written through a descriptor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'batt-storage-new-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('stand under no final name until placed; placing never replaces a file; a discarded one leaves nothing', async () => {
    const storage = new LocalStorage();
    const first = await storage.create(dir);
    writeSync(first.fd, 'one');
    assert.deepEqual(
      readdirSync(dir).filter((n) => !n.startsWith('.batt-tmp-')),
      [],
      'no final name before place',
    );
    assert.equal(await first.place('db', '.sql', 'run7'), join(dir, 'db.sql'));
    const second = await storage.create(dir);
    writeSync(second.fd, 'two');
    assert.equal(await second.place('db', '.sql', 'run7'), join(dir, 'db-run7.sql'));
    assert.equal(readFileSync(join(dir, 'db.sql'), 'utf8'), 'one', 'the first file is untouched');
    const third = await storage.create(dir);
    writeSync(third.fd, 'three');
    await third.discard();
    assert.deepEqual(readdirSync(dir).sort(), ['db-run7.sql', 'db.sql']);
  });
});

describe('the local folder: readText', () => {
  it('reads a file whole, and gives nothing for a missing file, a link, a folder or a FIFO, never following or blocking', async (t) => {
    const base = mkdtempSync(join(tmpdir(), 'batt-text-'));
    t.after(() => rmSync(base, { recursive: true, force: true }));
    writeFileSync(join(base, 'SHA256SUMS'), 'abc\n');
    symlinkSync(join(base, 'SHA256SUMS'), join(base, 'link'));
    mkdirSync(join(base, 'folder'));
    execFileSync('mkfifo', [join(base, 'fifo')]);
    const storage = new LocalStorage();
    assert.equal(await readText(storage, join(base, 'SHA256SUMS')), 'abc\n');
    for (const name of ['missing', 'link', 'folder', 'fifo']) assert.equal(await readText(storage, join(base, name)), undefined, name);
    // Read directly too, as a file swapped for one of those between the stat and the read would be.
    for (const name of ['missing', 'link', 'folder']) assert.equal(await storage.readSmall(join(base, name)), undefined, name);
  });
});
