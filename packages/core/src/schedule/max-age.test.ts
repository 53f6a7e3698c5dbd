import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BattConfig } from '../config/load.js';
import { BattError } from '../errors/errors.js';
import { maxAgeOf, periodOf } from './max-age.js';

const config = (over: Partial<BattConfig>): BattConfig => ({ services: {}, ...over }) as BattConfig;

describe('max_age', () => {
  it("defaults to the schedule's period and a quarter", () => {
    assert.equal(periodOf(undefined), 86_400);
    assert.equal(periodOf('hourly'), 3600);
    assert.equal(periodOf('weekly'), 7 * 86_400);
    assert.equal(periodOf('Mon..Fri *-*-* 02:30'), 86_400, 'a calendar counts as daily');
    assert.equal(maxAgeOf(config({}))('mysql'), 30 * 3600);
    assert.equal(maxAgeOf(config({ schedule: 'hourly' }))('mysql'), 75 * 60);
  });

  it("a service's own max_age wins over the top level's", () => {
    const of = maxAgeOf(config({ max_age: '2d', services: { redis: { max_age: '2h' } } }));
    assert.equal(of('redis'), 7200);
    assert.equal(of('mysql'), 2 * 86_400);
  });

  it('a value that is no duration is a CONFIG error naming the key', () => {
    assert.throws(
      () => maxAgeOf(config({ services: { redis: { max_age: 'soon' } } })),
      (e: unknown) => e instanceof BattError && e.code === 'CONFIG' && /redis: max_age "soon"/.test(e.message),
    );
  });
});
