import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractArgs, tarArgs } from './args.js';

const plain = { exclude: [], oneFileSystem: false, xattrs: false, sparse: false };

describe('tarArgs', () => {
  it('archives the path relative to / after --, so it can never be an option', () => {
    const args = tarArgs('/--checkpoint-action=exec=sh', plain);
    assert.deepEqual(args.slice(-3), ['--directory=/', '--', '--checkpoint-action=exec=sh']);
  });

  it('archives / itself as .', () => {
    assert.equal(tarArgs('/', plain).at(-1), '.');
  });

  it('makes absolute excludes relative, as members are stored', () => {
    const args = tarArgs('/var/www', { ...plain, exclude: ['/var/www/cache', '*.log'] });
    assert.ok(args.includes('--exclude=var/www/cache'));
    assert.ok(args.includes('--exclude=*.log'));
  });

  it('adds xattrs, ACLs and sparse handling only when asked', () => {
    assert.ok(!tarArgs('/a', plain).includes('--xattrs'));
    const full = tarArgs('/a', { ...plain, xattrs: true, sparse: true, oneFileSystem: true });
    for (const flag of ['--format=posix', '--acls', '--xattrs', '--sparse', '--one-file-system']) assert.ok(full.includes(flag), flag);
  });
});

describe('extractArgs', () => {
  it('extracts stdin into the folder given as the value of --directory=, never as a word of its own', () => {
    assert.deepEqual(extractArgs('-C /x', { xattrs: false, root: true }), ['--extract', '--file=-', '--directory=-C /x', '--no-overwrite-dir']);
  });

  it('keeps owners only as root, and xattrs and ACLs only when the archive has them', () => {
    assert.ok(extractArgs('/d', { xattrs: false, root: false }).includes('--no-same-owner'));
    const full = extractArgs('/d', { xattrs: true, root: true });
    for (const flag of ['--xattrs', '--acls']) assert.ok(full.includes(flag), flag);
    assert.ok(!full.includes('--no-same-owner'));
  });
});
