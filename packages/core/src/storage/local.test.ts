import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storageConformance } from './conformance.js';
import { LocalStorage } from './local.js';

storageConformance('local folder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'batt-storage-'));
  return { storage: new LocalStorage(), prefix: dir, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});
