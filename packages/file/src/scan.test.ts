import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { Header } from 'tar';
import { memberProblem, scanArchive } from './scan.js';

/** A tar made of headers (and contents) only, so any entry can be crafted. */
function tarOf(entries: { path: string; type?: string; linkpath?: string; data?: string; mode?: number }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    const header = new Header({ path: e.path, type: (e.type ?? 'File') as never, linkpath: e.linkpath, size: data.length, mode: e.mode ?? 0o644, mtime: new Date(0) });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

describe('archive safety scan', () => {
  it('names absolute and .. members', () => {
    assert.equal(memberProblem('/etc/passwd'), 'is absolute');
    assert.equal(memberProblem('a/../../x'), 'contains ".."');
    assert.equal(memberProblem('a/..b/c'), undefined);
    assert.equal(memberProblem('var/www/index.html'), undefined);
  });

  it('accepts a plain archive and hashes its files', async () => {
    const scan = await scanArchive(
      Readable.from([
        tarOf([
          { path: 'd/', type: 'Directory' },
          { path: 'd/a.txt', data: 'hello' },
          { path: 'd/l', type: 'SymbolicLink', linkpath: 'a.txt' },
        ]),
      ]),
      true,
    );
    assert.deepEqual(scan.problems, []);
    assert.equal(scan.entries.get('d/a.txt')?.sha256, '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    assert.equal(scan.entries.size, 3);
  });

  it('refuses links out of the target, entries under a symlink and devices', async () => {
    const scan = await scanArchive(
      Readable.from([
        tarOf([
          { path: 'l', type: 'SymbolicLink', linkpath: '../../etc' },
          { path: 'a/l2', type: 'SymbolicLink', linkpath: '../..' },
          { path: 'ok', type: 'SymbolicLink', linkpath: 'a/../b' },
          { path: 'ok/x', data: 'through a link' },
          { path: 'h', type: 'Link', linkpath: '/etc/shadow' },
          { path: 'null', type: 'CharacterDevice' },
        ]),
      ]),
      false,
    );
    assert.equal(scan.problems.length, 5, scan.problems.join('\n'));
    assert.match(scan.problems.join('\n'), /l is a symlink pointing out/);
    assert.match(scan.problems.join('\n'), /a\/l2 is a symlink pointing out/);
    assert.match(scan.problems.join('\n'), /ok\/x lies under the symlink ok/);
    assert.match(scan.problems.join('\n'), /h is a hard link/);
    assert.match(scan.problems.join('\n'), /null is a device/);
  });
});
