import assert from 'node:assert/strict';
import { chmodSync, lchownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { untrusted } from './trust.js';

const asRoot = process.geteuid?.() === 0;

describe('untrusted', { skip: asRoot ? false : 'needs root to hand files to nobody' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'batt-trust-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('trusts a private folder below a sticky, world-writable one (/tmp), and a file in it', () => {
    writeFileSync(join(dir, 'f'), 'x', { mode: 0o600 });
    assert.equal(untrusted(dir), undefined);
    assert.equal(untrusted(join(dir, 'f')), undefined);
  });

  it('refuses a sticky world-writable folder as the place itself, and a non-sticky one on the way', () => {
    const sticky = join(dir, 'sticky');
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    assert.match(untrusted(sticky) ?? '', /writable by others \(mode 1777\)/);
    mkdirSync(join(sticky, 'mine'));
    assert.equal(untrusted(join(sticky, 'mine')), undefined, 'on the way, the sticky bit protects what is ours');
    const open = join(dir, 'open');
    mkdirSync(join(open, 'mine'), { recursive: true });
    chmodSync(open, 0o777);
    assert.match(untrusted(join(open, 'mine')) ?? '', new RegExp(`${open} is writable by others`));
  });

  it('follows a link only when a trusted user made it, and checks where it leads', () => {
    const target = join(dir, 'target');
    mkdirSync(target);
    symlinkSync(target, join(dir, 'ours'));
    assert.equal(untrusted(join(dir, 'ours')), undefined);
    symlinkSync(target, join(dir, 'theirs'));
    lchownSync(join(dir, 'theirs'), 65534, 65534);
    assert.match(untrusted(join(dir, 'theirs')) ?? '', /is owned by nobody \(uid 65534\)/);
    const bad = join(dir, 'badtarget');
    mkdirSync(bad);
    chmodSync(bad, 0o777);
    symlinkSync(bad, join(dir, 'to-bad'));
    assert.match(untrusted(join(dir, 'to-bad')) ?? '', new RegExp(`${bad} is writable by others`));
  });

  it('does not trust what it cannot look at', () => {
    assert.match(untrusted(join(dir, 'missing', 'x')) ?? '', /cannot be checked \(ENOENT\)/);
  });
});
