import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tarArgs } from './args.js';

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
