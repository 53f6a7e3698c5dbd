import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BattError } from '../errors/errors.js';
import { doctorTargets, listed } from './checks.js';

describe('doctorTargets', () => {
  const all = ['shop', 'blog', 'scratch'];

  it('is every database the server has but those skipped, or the configured ones', () => {
    assert.deepEqual(doctorTargets('mysql', all, [], new Set(['scratch'])), ['shop', 'blog']);
    assert.deepEqual(doctorTargets('mysql', all, ['blog'], new Set(['blog'])), ['blog']);
  });

  it('names configured databases the server has not, and the key to fix', () => {
    assert.throws(
      () => doctorTargets('postgresql', all, ['shop', 'gone'], new Set()),
      (e: unknown) => e instanceof BattError && e.message === 'postgresql.databases names what the server has not: gone' && e.hint === 'check postgresql.databases',
    );
  });

  it('lists five names, then how many', () => {
    assert.equal(listed(['a', 'b']), 'a, b');
    assert.equal(listed(['a', 'b', 'c', 'd', 'e', 'f', 'g']), 'a, b, c, d, e, … (7)');
  });
});
