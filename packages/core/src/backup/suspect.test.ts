import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countOf, suspectReason } from './suspect.js';

const MiB = 1024 * 1024;

describe('suspect backups', () => {
  it('flags a size that fell under the fraction of the usual (median of the last three)', () => {
    const previous = [{ bytes: 10 * MiB }, { bytes: 11 * MiB }, { bytes: 1 * MiB }, { bytes: 50 * MiB }];
    assert.match(suspectReason({ bytes: 4 * MiB }, previous, 0.5) ?? '', /size 4\.0 MiB is 40% of the usual 10\.0 MiB/);
    assert.equal(suspectReason({ bytes: 6 * MiB }, previous, 0.5), undefined);
  });

  it('flags rows that fell, even when the size did not', () => {
    const previous = [
      { bytes: 100, rows: 1000 },
      { bytes: 100, rows: 990 },
    ];
    assert.match(suspectReason({ bytes: 100, rows: 12 }, previous, 0.5) ?? '', /12 rows\/keys against the usual 995/);
    assert.equal(suspectReason({ bytes: 100, rows: 600 }, previous, 0.5), undefined);
  });

  it('says nothing without history, for tiny backups, or when turned off', () => {
    assert.equal(suspectReason({ bytes: 1 }, [], 0.5), undefined);
    assert.equal(suspectReason({ bytes: 1000 }, [{ bytes: 40_000 }], 0.5), undefined);
    assert.equal(suspectReason({ bytes: 1, rows: 0 }, [{ bytes: 10 * MiB, rows: 50 }], 0), undefined);
    assert.ok(suspectReason({ bytes: 1, rows: 0 }, [{ bytes: 10 * MiB, rows: 50 }], 0.5));
  });

  it('reads row counts and key counts from the facts', () => {
    assert.equal(countOf(JSON.stringify({ rowCounts: { a: 2, b: 3 } })), 5);
    assert.equal(countOf(JSON.stringify({ keys: 7, keyspace: {} })), 7);
    assert.equal(countOf(JSON.stringify({ tarBytes: 10 })), undefined);
    assert.equal(countOf(null), undefined);
  });
});
