process.env.TZ = 'UTC'; // calendar buckets are local: each test sets its zone

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planGroup, type KeepRules } from './policy.js';
import { seekGood, type GoodBefore } from './seek.js';

const DAY = 86_400_000;

let seed = 7;
const rand = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const int = (n: number): number => Math.floor(rand() * n);

/** A random group: times over `years` from `start` (some bunched, some equal), mostly good. */
function group(start: number, years: number): { ids: number[]; times: number[]; kinds: number[] } {
  const n = 1 + int(400);
  const ids: number[] = [];
  const times: number[] = [];
  const kinds: number[] = [];
  let t = start;
  for (let i = 0; i < n; i++) {
    // Steps from a minute to a fortnight; now and then the same time as the one before.
    const r = rand();
    if (i > 0 && r < 0.05) t += 0;
    else if (r < 0.5) t += 60_000 + int(6 * 3_600_000);
    else t += int((years * 365 * DAY) / (n / 2));
    ids.push(i + 1 + (rand() < 0.1 ? 1000 : 0) * int(3)); // ids mostly follow time, not always
    times.push(t);
    kinds.push(rand() < 0.85 ? 0 : 1 + int(2));
  }
  return { ids, times, kinds };
}

function rules(): KeepRules {
  for (;;) {
    const r: KeepRules = {};
    for (const [name, max] of [
      ['last', 4],
      ['hourly', 6],
      ['daily', 10],
      ['weekly', 6],
      ['monthly', 14],
      ['yearly', 3],
    ] as const) {
      if (rand() < 0.45) r[name] = int(max + 1);
    }
    if (rand() < 0.2) r.withinMs = (1 + int(40)) * DAY;
    if (Object.values(r).some((v) => v)) return r;
  }
}

/** The good backups of columns, newest first (time, then the higher id), as the catalog's seek yields them. */
function goodOf(c: { ids: number[]; times: number[]; kinds: number[] }): GoodBefore {
  const good = c.ids.map((id, i) => [id, c.times[i]] as const).filter((_, i) => c.kinds[i] === 0);
  good.sort((a, b) => b[1] - a[1] || b[0] - a[0]);
  return (before) => good.filter(([, time]) => time < before);
}

/** Compares seekGood with the walk (planGroup) on `cases` random groups; returns how many seekGood declined. */
function compare(zone: string, start: string, years: number, cases: number): number {
  process.env.TZ = zone;
  let declined = 0;
  try {
    for (let n = 0; n < cases; n++) {
      const c = group(Date.parse(start), years);
      const r = rules();
      const now = new Date(c.times[c.times.length - 1] + int(30) * DAY);
      const walked = planGroup({ ids: c.ids, times: c.times, kinds: c.kinds }, r, now);
      const sought = seekGood(goodOf(c), Math.min(...c.times), r, now);
      if (!sought) {
        declined++;
        continue;
      }
      const what = `${zone} case ${n}, rules ${JSON.stringify(r)}`;
      for (let i = 0; i < c.ids.length; i++) {
        if (c.kinds[i] !== 0) {
          // A failed or suspect backup is kept when newer than the oldest kept good one: the caller decides it from oldestKept.
          assert.equal(c.times[i] > sought.oldestKept, walked.keep[i] === 1, `${what}: backup ${c.ids[i]} (not good)`);
          continue;
        }
        assert.deepEqual(sought.kept.get(c.ids[i])?.reasons, walked.keep[i] === 1 ? walked.reasons.get(i) : undefined, `${what}: backup ${c.ids[i]}`);
      }
    }
  } finally {
    process.env.TZ = 'UTC';
  }
  return declined;
}

describe('seeking the kept backups (seekGood)', () => {
  for (const [zone, start] of [
    ['UTC', '2024-01-01T00:00:00Z'],
    ['Europe/Berlin', '2024-01-01T00:00:00Z'],
    ['America/New_York', '2023-06-01T00:00:00Z'],
    ['Australia/Lord_Howe', '2024-01-01T00:00:00Z'],
    ['Asia/Kathmandu', '2024-01-01T00:00:00Z'],
  ] as const) {
    it(`keeps the same backups for the same reasons as the walk (${zone})`, () => {
      assert.equal(compare(zone, start, 2, 150), 0, 'seekGood declined a group with no repeating bucket');
    });
  }

  it("declines where a clock set back repeats a local day (St. John's changed at 00:01 until 2011), and agrees elsewhere", () => {
    // Each November 2007-2010 the clock went from 00:01 back to 23:01 the day before.
    const declined = compare('America/St_Johns', '2007-01-01T00:00:00Z', 3, 80);
    assert.ok(declined > 0, 'no group was declined');
    process.env.TZ = 'America/St_Johns';
    try {
      const c = { ids: [1, 2, 3], times: ['2010-11-06T12:00:00Z', '2010-11-07T03:00:00Z', '2010-11-07T03:30:00Z'].map(Date.parse), kinds: [0, 0, 0] };
      assert.equal(seekGood(goodOf(c), c.times[0], { daily: 3 }, new Date('2010-11-08T00:00:00Z')), undefined);
      assert.ok(seekGood(goodOf(c), c.times[0], { last: 2 }, new Date('2010-11-08T00:00:00Z')), 'a rule without buckets has nothing to repeat');
    } finally {
      process.env.TZ = 'UTC';
    }
  });

  it('declines a count without end, and finds nothing in an empty group', () => {
    const c = { ids: [1, 2], times: [Date.parse('2026-01-01T00:00:00Z'), Date.parse('2026-01-02T00:00:00Z')], kinds: [0, 0] };
    assert.equal(seekGood(goodOf(c), c.times[0], { daily: Infinity }, new Date()), undefined);
    const none = seekGood(() => [], 0, { daily: 3 }, new Date());
    assert.equal(none?.kept.size, 0);
    assert.ok(Number.isNaN(none?.oldestKept));
  });

  it('throws on rules the walk refuses', () => {
    assert.throws(() => seekGood(() => [], 0, {}, new Date()), /no retention rule set/);
    assert.throws(() => seekGood(() => [], 0, { daily: 1.5 }, new Date()), /whole number/);
  });
});
