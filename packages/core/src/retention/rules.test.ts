import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeRules, parseAge, rulesFor, toRules } from './rules.js';

process.env.TZ = 'UTC';
const now = new Date('2026-11-22T12:00:00Z');
const DAY = 86_400_000;

describe('keep rules', () => {
  it('parses ages in hours, days, weeks, calendar months and years, and combinations', () => {
    assert.equal(parseAge('30d', now), 30 * DAY);
    assert.equal(parseAge('12h', now), 12 * 3_600_000);
    assert.equal(parseAge('2w', now), 14 * DAY);
    assert.equal(parseAge('1m', now), 31 * DAY); // 22 Oct → 22 Nov
    assert.equal(parseAge('1y', now), 365 * DAY);
    assert.equal(parseAge('1y6m', now), (365 + 184) * DAY); // 22 May 2025 → 22 Nov 2026
    for (const bad of ['', '30', 'd', 'soon', '3x', '0d', '-1d']) assert.equal(parseAge(bad, now), undefined, bad);
  });

  it('takes flags over the service section over the top level', () => {
    const config = { keep_daily: 7, services: { mysql: { keep_last: 2 } }, files: [] };
    assert.equal(describeRules(rulesFor('mysql', config, undefined, now)!), '--keep-last 2');
    assert.equal(describeRules(rulesFor('redis', config, undefined, now)!), '--keep-daily 7');
    assert.equal(describeRules(rulesFor('mysql', config, toRules({ weekly: 4, within: '30d' }, now, '--keep-within'), now)!), '--keep-weekly 4 --keep-within 30d');
    assert.equal(rulesFor('redis', { services: {}, files: [] }, undefined, now), undefined);
  });

  it('checks keep_* of drop-in sections, which are not validated on load', () => {
    const config = { services: { pgsql: { keep_last: 'three' } }, files: [] };
    assert.throws(() => rulesFor('pgsql', config, undefined, now), /config "pgsql": "keep_last" must be a whole number of at least 1, got "three"/);
    assert.throws(() => rulesFor('x', { keep_within: 'later', services: {}, files: [] }, undefined, now), /keep_within takes an age/);
  });
});
