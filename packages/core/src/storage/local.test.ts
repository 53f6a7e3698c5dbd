import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { storageConformance } from './conformance.js';
import { LocalStorage } from './local.js';

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
