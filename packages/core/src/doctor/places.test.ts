import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BattError } from '../errors/errors.js';
import { checkFolder, checkFreeSpace, nearestExisting } from './places.js';

describe("the doctor's checks of the places backups go", () => {
  const dir = mkdtempSync(join(tmpdir(), 'batt-places-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a folder that does not exist yet is judged by the nearest one above it', () => {
    assert.equal(nearestExisting(join(dir, 'a', 'b')), dir);
    assert.match(checkFolder(join(dir, 'a', 'b')), new RegExp(`^${dir}/a/b does not exist yet \\(batt makes it, 0700\\); ${dir} is owned by .*, mode 0700, writable$`));
  });

  it('a folder others may write is refused, with chmod go-w as the fix', () => {
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    assert.throws(
      () => checkFolder(join(open, 'backups')),
      (e: unknown) => e instanceof BattError && e.code === 'UNTRUSTED' && /writable by others \(mode 0777\)/.test(e.message) && e.hint!.startsWith(`chmod go-w ${open}`),
    );
  });

  it('free space is compared with what the last backups took', () => {
    assert.match(checkFreeSpace(dir, undefined), /free under .*; no backup yet to compare with$/);
    assert.match(checkFreeSpace(dir, 1024), /free under .*; the last backups that went there took 1\.0 KiB$/);
    assert.throws(
      () => checkFreeSpace(dir, 2 ** 60),
      (e: unknown) => e instanceof BattError && /^only .* free under .*, and the last backups that went there took 1048576\.0 TiB$/.test(e.message) && /batt prune/.test(e.hint!),
    );
  });
});
