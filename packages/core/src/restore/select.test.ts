import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertChecks, compareCounts, parseSince } from './select.js';

describe('restore helpers', () => {
  const clock = new Date('2026-11-22T12:00:00Z');
  it('parses --since as an age or a date, and rejects the rest', () => {
    assert.equal(parseSince('7d', clock)?.toISOString(), '2026-11-15T12:00:00.000Z');
    assert.equal(parseSince('12h', clock)?.toISOString(), '2026-11-22T00:00:00.000Z');
    assert.equal(parseSince('2w', clock)?.toISOString(), '2026-11-08T12:00:00.000Z');
    assert.equal(parseSince('2026-11-01T00:00:00Z', clock)?.toISOString(), '2026-11-01T00:00:00.000Z');
    assert.equal(parseSince('yesterday', clock), undefined);
    assert.equal(parseSince('7', clock), undefined);
  });

  it('compares counts both ways: a missing or extra table is a difference', () => {
    assert.equal(compareCounts('rows', { a: 1, b: 2 }, { a: 1, b: 2 }).ok, true);
    const missing = compareCounts('rows', { a: 1, b: 2 }, { a: 1 });
    assert.equal(missing.ok, false);
    assert.match(missing.detail, /b: missing \(backup 2\)/);
    assert.match(compareCounts('rows', { a: 1 }, { a: 1, c: 5 }).detail, /c: 5 \(backup none\)/);
    assert.equal(compareCounts('rows', undefined, { a: 1 }).ok, true);
  });

  it('throws naming every failed check, and keeps the list on the error', () => {
    const list = [
      { name: 'a', ok: true, detail: 'fine' },
      { name: 'b', ok: false, detail: 'broken' },
    ];
    assert.throws(
      () => assertChecks('restore', list),
      (e: Error & { checks?: unknown }) => /restore: b: broken/.test(e.message) && e.checks === list,
    );
    assert.deepEqual(assertChecks('restore', [list[0]]), [list[0]]);
  });
});
