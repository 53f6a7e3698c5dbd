import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outcomeOf } from './api.js';

const day = (ok: number, failed: number, suspect: number, verified: number) => outcomeOf({ day: '2026-12-01', ok, failed, suspect, verified });

describe('the day strip', () => {
  it('gives each day its worst news', () => {
    assert.equal(day(0, 0, 0, 0), 'none');
    assert.equal(day(0, 2, 0, 0), 'failed');
    assert.equal(day(3, 1, 1, 3), 'partial', 'a failure outweighs the rest');
    assert.equal(day(3, 0, 1, 3), 'suspect');
    assert.equal(day(3, 0, 0, 2), 'ok', 'not every good backup proven');
    assert.equal(day(3, 0, 0, 3), 'verified');
  });
});
