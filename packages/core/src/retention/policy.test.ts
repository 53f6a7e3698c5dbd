process.env.TZ = 'UTC'; // calendar buckets are local: pin the zone before any Date use

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BACKUP_KINDS, hasRules, planGroup, planRetention, type BackupKind, type GroupColumns, type KeepRules, type RetentionBackup, type RetentionDecision } from './policy.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const HOUR = 3_600_000;
const DAY = 86_400_000;

function b(id: number, iso: string, kind: BackupKind = 'good', group = 'mysql/main', hold?: string): RetentionBackup {
  return { id, group, time: Date.parse(iso), kind, ...(hold ? { hold } : {}) };
}

/** Sorted ids of the kept backups. */
function kept(decisions: RetentionDecision[]): number[] {
  return decisions
    .filter((d) => d.keep)
    .map((d) => d.id)
    .sort((x, y) => x - y);
}

function reasonsOf(decisions: RetentionDecision[], id: number): string[] {
  const found = decisions.find((d) => d.id === id);
  assert.ok(found, `no decision for ${id}`);
  return found.reasons;
}

function plan(backups: RetentionBackup[], rules: KeepRules, now = NOW): RetentionDecision[] {
  const decisions = planRetention(backups, rules, now);
  assert.deepEqual(
    decisions.map((d) => d.id),
    backups.map((x) => x.id),
    'one decision per backup, in input order',
  );
  return decisions;
}

/**
 * The rules written the plain way, with Date's local getters and strings, for cross-checking the
 * columnar planner: good backups newest first (the higher id first at equal times); `last` keeps
 * the first N; each calendar rule keeps the first backup of each new bucket until N buckets are
 * kept; `within` keeps those newer than the cutoff; the newest good one always stays. Others
 * (failed, suspect, unverified) stay while newer than the oldest kept good one; a group with no
 * good backup keeps all; a held backup always stays. Returns keep per member, in order.
 */
function referenceKeep(members: readonly RetentionBackup[], rules: KeepRules, now: Date): boolean[] {
  const good = members
    .map((b, i) => ({ b, i }))
    .filter((x) => x.b.kind === 'good')
    .sort((x, y) => y.b.time - x.b.time || y.b.id - x.b.id);
  if (good.length === 0) return members.map(() => true);
  const kept = new Set<number>([0]);
  for (let k = 0; k < Math.min(rules.last ?? 0, good.length); k++) kept.add(k);
  const day = (d: Date): string => `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
  const keyOf: Record<string, (d: Date) => string> = {
    hourly: (d) => `${day(d)} ${d.getHours()}`,
    daily: day,
    weekly: (d) => day(new Date(d.getFullYear(), d.getMonth(), d.getDate() - ((d.getDay() + 6) % 7))),
    monthly: (d) => `${d.getFullYear()}-${d.getMonth()}`,
    yearly: (d) => String(d.getFullYear()),
  };
  for (const unit of ['hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const) {
    let count = rules[unit] ?? 0;
    let last: string | undefined;
    for (let k = 0; k < good.length && count > 0; k++) {
      const key = keyOf[unit](new Date(good[k].b.time));
      if (key !== last) {
        last = key;
        kept.add(k);
        count--;
      }
    }
  }
  if ((rules.withinMs ?? 0) > 0) good.forEach((x, k) => x.b.time > now.getTime() - rules.withinMs! && kept.add(k));
  const oldest = Math.min(...[...kept].map((k) => good[k].b.time));
  const keptGood = new Set([...kept].map((k) => good[k].i));
  return members.map((b, i) => Boolean(b.hold) || (b.kind === 'good' ? keptGood.has(i) : b.time > oldest));
}

describe('retention policy', () => {
  it('keeps the last N good backups, and says why for each backup', () => {
    const list = [1, 2, 3, 4, 5, 6].map((id) => b(id, `2026-11-${10 + id}T02:00:00Z`));
    const d = plan(list, { last: 3 });
    assert.deepEqual(kept(d), [4, 5, 6]);
    assert.deepEqual(reasonsOf(d, 6), ['last 3']);
    assert.deepEqual(reasonsOf(d, 4), ['last 3']);
    assert.deepEqual(reasonsOf(d, 3), ['not kept by any rule']);
    const removed = d.find((x) => x.id === 1);
    assert.deepEqual(removed, { id: 1, group: 'mysql/main', time: Date.parse('2026-11-11T02:00:00Z'), kind: 'good', keep: false, reasons: ['not kept by any rule'] });
  });

  it('sorts by time whatever the input order, and breaks time ties by the higher id', () => {
    const list = [b(3, '2026-11-20T01:00:00Z'), b(1, '2026-11-21T01:00:00Z'), b(2, '2026-11-21T01:00:00Z'), b(4, '2026-11-19T01:00:00Z')];
    assert.deepEqual(kept(plan(list, { last: 1 })), [2]);
    assert.deepEqual(kept(plan(list, { last: 3 })), [1, 2, 3]);
    assert.deepEqual(kept(plan([...list].reverse(), { last: 3 })), [1, 2, 3]);
    // Already in time order (either way), but not in id order within the tie.
    const tie = [b(1, '2026-11-21T01:00:00Z'), b(2, '2026-11-21T01:00:00Z'), b(3, '2026-11-20T01:00:00Z')];
    assert.deepEqual(kept(plan(tie, { last: 1 })), [2]);
    assert.deepEqual(kept(plan([tie[2], tie[1], tie[0]], { last: 1 })), [2]);
  });

  // One calendar rule each: backups 1, 2, 3, … at these times; the ones it keeps, each with its reason.
  const calendarRules: { name: string; rules: KeepRules; times: string[]; keeps: Record<number, string> }[] = [
    {
      name: 'hourly keeps the newest backup of each of the N newest hours that have one',
      rules: { hourly: 3 },
      times: ['2026-11-20T14:05:00Z', '2026-11-20T14:40:00Z', '2026-11-20T13:10:00Z', '2026-11-20T13:00:00Z', '2026-11-20T10:59:00Z', '2026-11-20T09:30:00Z'],
      keeps: { 2: 'hourly 2026-11-20 14h', 3: 'hourly 2026-11-20 13h', 5: 'hourly 2026-11-20 10h' },
    },
    {
      name: 'daily keeps the newest of each day, counting only days that have backups',
      rules: { daily: 3 },
      times: ['2026-11-20T23:59:00Z', '2026-11-20T00:00:00Z', '2026-11-17T12:00:00Z', '2026-11-17T18:00:00Z', '2026-11-10T12:00:00Z', '2026-11-09T12:00:00Z'],
      keeps: { 1: 'daily 2026-11-20', 4: 'daily 2026-11-17', 5: 'daily 2026-11-10' },
    },
    {
      name: 'weekly uses ISO weeks: Monday start, and the week-year across the new year',
      rules: { weekly: 3 },
      // 2026 has 53 ISO weeks: W53 runs Mon 2026-12-28 to Sun 2027-01-03.
      times: [
        '2027-01-04T08:00:00Z', // Monday: 2027-W01
        '2027-01-03T20:00:00Z', // Sunday: still 2026-W53
        '2027-01-01T08:00:00Z',
        '2026-12-31T08:00:00Z',
        '2026-12-28T00:00:00Z',
        '2026-12-27T23:00:00Z', // Sunday: 2026-W52
        '2026-12-21T08:00:00Z', // 2026-W52
        '2026-12-20T08:00:00Z', // 2026-W51
      ],
      keeps: { 1: 'weekly 2027-W01', 2: 'weekly 2026-W53', 6: 'weekly 2026-W52' },
    },
    {
      name: 'monthly counts months that have backups, skipping gaps',
      rules: { monthly: 3 },
      times: [
        '2026-11-02T00:00:00Z',
        '2026-11-20T00:00:00Z',
        '2026-08-31T23:00:00Z',
        '2026-08-01T00:00:00Z',
        '2026-05-15T00:00:00Z',
        '2026-01-15T00:00:00Z',
        '2025-12-15T00:00:00Z',
      ],
      keeps: { 2: 'monthly 2026-11', 3: 'monthly 2026-08', 5: 'monthly 2026-05' },
    },
  ];
  for (const { name, rules, times, keeps } of calendarRules)
    it(name, () => {
      const d = plan(
        times.map((t, i) => b(i + 1, t)),
        rules,
      );
      assert.deepEqual(kept(d), Object.keys(keeps).map(Number));
      for (const [id, reason] of Object.entries(keeps)) assert.deepEqual(reasonsOf(d, Number(id)), [reason]);
    });

  it('names the ISO week-year when it differs from the calendar year, per group', () => {
    const list = [
      b(1, '2024-12-30T08:00:00Z', 'good', 'a'), // Monday of 2025-W01
      b(2, '2027-01-01T08:00:00Z', 'good', 'b'), // Friday of 2026-W53
      b(3, '2021-01-03T08:00:00Z', 'good', 'c'), // Sunday of 2020-W53
      b(4, '2026-11-20T08:00:00Z', 'good', 'd'),
    ];
    const d = plan(list, { weekly: 1 });
    assert.deepEqual(reasonsOf(d, 1), ['weekly 2025-W01']);
    assert.deepEqual(reasonsOf(d, 2), ['weekly 2026-W53']);
    assert.deepEqual(reasonsOf(d, 3), ['weekly 2020-W53']);
    assert.deepEqual(reasonsOf(d, 4), ['weekly 2026-W47']);
  });

  it('yearly keeps the newest backup of each of the N newest years that have one', () => {
    const list = [b(1, '2026-06-01T00:00:00Z'), b(2, '2026-01-01T00:00:00Z'), b(3, '2024-12-31T23:59:00Z'), b(4, '2024-01-01T00:00:00Z'), b(5, '2022-07-01T00:00:00Z')];
    const d = plan(list, { yearly: 2 });
    assert.deepEqual(kept(d), [1, 3]);
    assert.deepEqual(reasonsOf(d, 1), ['yearly 2026']);
    assert.deepEqual(reasonsOf(d, 3), ['yearly 2024']);
    assert.deepEqual(kept(plan(list, { yearly: 10 })), [1, 3, 5]);
    const turn = [b(11, '2027-01-10T00:00:00Z'), b(12, '2026-12-10T00:00:00Z'), b(13, '2025-06-01T00:00:00Z')];
    const both = plan(turn, { monthly: 2, yearly: 2 });
    assert.deepEqual(kept(both), [11, 12]);
    assert.deepEqual(reasonsOf(both, 11), ['monthly 2027-01', 'yearly 2027']);
    assert.deepEqual(reasonsOf(both, 12), ['monthly 2026-12', 'yearly 2026']);
  });

  it('within keeps backups strictly newer than now minus the duration', () => {
    const at = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
    const list = [b(1, at(DAY)), b(2, at(29 * DAY)), b(3, at(30 * DAY)), b(4, at(31 * DAY))];
    const d = plan(list, { withinMs: 30 * DAY, withinLabel: '30d' });
    assert.deepEqual(kept(d), [1, 2]);
    assert.deepEqual(reasonsOf(d, 2), ['within 30d']);
    const unlabelled = plan(list, { withinMs: 36 * HOUR });
    assert.deepEqual(kept(unlabelled), [1]);
    assert.deepEqual(reasonsOf(unlabelled, 1), ['within 36h']);
  });

  it('ORs the rules, listing every rule that kept a backup', () => {
    const list = [
      b(1, '2026-11-21T10:00:00Z'),
      b(2, '2026-11-21T08:00:00Z'),
      b(3, '2026-11-20T10:00:00Z'),
      b(4, '2026-10-31T10:00:00Z'),
      b(5, '2026-10-30T10:00:00Z'),
      b(6, '2026-09-30T10:00:00Z'),
    ];
    const d = plan(list, { last: 2, daily: 2, monthly: 2, withinMs: 2 * DAY, withinLabel: '2d' });
    assert.deepEqual(kept(d), [1, 2, 3, 4]);
    assert.deepEqual(reasonsOf(d, 1), ['last 2', 'daily 2026-11-21', 'monthly 2026-11', 'within 2d']);
    assert.deepEqual(reasonsOf(d, 2), ['last 2', 'within 2d']);
    assert.deepEqual(reasonsOf(d, 3), ['daily 2026-11-20']);
    assert.deepEqual(reasonsOf(d, 4), ['monthly 2026-10']);
    assert.deepEqual(reasonsOf(d, 5), ['not kept by any rule']);
  });

  it('always keeps the newest good backup, even when no rule would', () => {
    const list = [b(1, '2026-10-01T00:00:00Z'), b(2, '2026-10-05T00:00:00Z'), b(3, '2026-10-03T00:00:00Z')];
    const d = plan(list, { withinMs: DAY, withinLabel: '1d' });
    assert.deepEqual(kept(d), [2]);
    assert.deepEqual(reasonsOf(d, 2), ['newest good backup']);
  });

  it('does not let failed backups use up slots: keep-last 2 still keeps the 2 newest good', () => {
    const list = [
      b(1, '2026-11-01T00:00:00Z'),
      b(2, '2026-11-02T00:00:00Z'),
      b(3, '2026-11-03T00:00:00Z'),
      ...[4, 5, 6, 7, 8].map((id) => b(id, `2026-11-1${id}T00:00:00Z`, 'failed')),
    ];
    const d = plan(list, { last: 2 });
    assert.deepEqual(kept(d), [2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(reasonsOf(d, 3), ['last 2']);
    assert.deepEqual(reasonsOf(d, 8), ['failed: not counted, newer than the oldest kept backup']);
    assert.deepEqual(reasonsOf(d, 1), ['not kept by any rule']);
  });

  it('does not let suspect or unverified backups fill calendar buckets', () => {
    const list = [
      b(1, '2026-11-21T20:00:00Z', 'suspect'),
      b(2, '2026-11-21T10:00:00Z'),
      b(3, '2026-11-20T20:00:00Z', 'unverified'),
      b(4, '2026-11-19T10:00:00Z'),
      b(5, '2026-11-18T10:00:00Z'),
    ];
    const d = plan(list, { daily: 2 });
    assert.deepEqual(kept(d), [1, 2, 3, 4]);
    assert.deepEqual(reasonsOf(d, 2), ['daily 2026-11-21']);
    assert.deepEqual(reasonsOf(d, 4), ['daily 2026-11-19']);
  });

  it('keeps a non-good backup newer than the oldest kept good one, and removes older ones', () => {
    const list = [
      b(1, '2026-11-21T00:00:00Z', 'suspect'),
      b(2, '2026-11-20T00:00:00Z'),
      b(3, '2026-11-19T00:00:00Z', 'unverified'),
      b(4, '2026-11-18T00:00:00Z'),
      b(5, '2026-11-17T00:00:00Z', 'failed'),
      b(6, '2026-11-16T00:00:00Z'),
      b(7, '2026-11-15T00:00:00Z', 'suspect'),
      b(8, '2026-11-14T00:00:00Z', 'unverified'),
      b(9, '2026-11-18T00:00:00Z', 'failed'), // same time as the oldest kept: not newer
    ];
    const d = plan(list, { last: 2 });
    assert.deepEqual(kept(d), [1, 2, 3, 4]);
    assert.deepEqual(reasonsOf(d, 9), ['failed: older than every kept backup']);
    assert.deepEqual(reasonsOf(d, 1), ['suspect: not counted, newer than the oldest kept backup']);
    assert.deepEqual(reasonsOf(d, 3), ['unverified: not counted, newer than the oldest kept backup']);
    assert.deepEqual(reasonsOf(d, 5), ['failed: older than every kept backup']);
    assert.deepEqual(reasonsOf(d, 6), ['not kept by any rule']);
    assert.deepEqual(reasonsOf(d, 7), ['suspect: older than every kept backup']);
    assert.deepEqual(reasonsOf(d, 8), ['unverified: older than every kept backup']);
  });

  it('removes nothing from a group with no good backup', () => {
    const list = [b(1, '2026-11-01T00:00:00Z', 'failed'), b(2, '2025-01-01T00:00:00Z', 'suspect'), b(3, '2020-01-01T00:00:00Z', 'unverified')];
    const d = plan(list, { last: 1 });
    assert.deepEqual(kept(d), [1, 2, 3]);
    for (const id of [1, 2, 3]) assert.deepEqual(reasonsOf(d, id), ['no good backup of this target: nothing removed']);
  });

  it('plans each group on its own', () => {
    const list = [
      b(1, '2026-11-01T00:00:00Z', 'good', 'mysql/main'),
      b(2, '2026-11-02T00:00:00Z', 'good', 'redis/cache'),
      b(3, '2026-11-03T00:00:00Z', 'good', 'mysql/main'),
      b(4, '2026-11-04T00:00:00Z', 'failed', 'redis/cache'),
      b(5, '2026-11-05T00:00:00Z', 'good', 'mysql/main'),
      b(6, '2026-10-01T00:00:00Z', 'good', 'redis/cache'),
      b(7, '2026-10-01T00:00:00Z', 'failed', 'files/etc'),
      b(8, '2026-10-02T00:00:00Z', 'failed', 'mysql/main'),
    ];
    const d = plan(list, { last: 2 });
    assert.deepEqual(kept(d), [2, 3, 4, 5, 6, 7]);
    assert.equal(d.find((x) => x.id === 6)?.group, 'redis/cache');
    assert.deepEqual(reasonsOf(d, 8), ['failed: older than every kept backup']);
  });

  it('keeps a held backup with its reason, without changing anything else', () => {
    const list = [
      b(1, '2026-11-05T00:00:00Z', 'good', 'g', 'in use by a restore (pid 12)'),
      b(2, '2026-11-04T00:00:00Z'),
      b(3, '2026-11-03T00:00:00Z', 'failed'),
      b(4, '2026-11-02T00:00:00Z', 'good', 'g', 'in use by a restore (pid 13)'),
      b(5, '2026-11-01T12:00:00Z', 'suspect'),
      b(6, '2026-11-01T00:00:00Z', 'failed', 'g', 'being verified'),
    ].map((x) => ({ ...x, group: 'g' }));
    const d = plan(list, { last: 2 });
    assert.deepEqual(kept(d), [1, 2, 4, 6]);
    // The held newest still counts toward last 2, so 3 is older than every kept good backup.
    assert.deepEqual(reasonsOf(d, 1), ['last 2', 'in use by a restore (pid 12)']);
    assert.deepEqual(reasonsOf(d, 2), ['last 2']);
    assert.deepEqual(reasonsOf(d, 3), ['failed: older than every kept backup']);
    assert.deepEqual(reasonsOf(d, 4), ['in use by a restore (pid 13)']);
    // A hold does not move the line for non-good backups: 5 is newer than held 4 but still removed.
    assert.deepEqual(reasonsOf(d, 5), ['suspect: older than every kept backup']);
    assert.deepEqual(reasonsOf(d, 6), ['being verified']);
  });

  it('refuses to plan without a rule, or with a count that is not a whole number', () => {
    const list = [b(1, '2026-11-01T00:00:00Z')];
    assert.throws(() => planRetention(list, {}, NOW), /no retention rule/);
    assert.throws(() => planRetention(list, { last: 0, withinMs: 0, withinLabel: '0d' }, NOW), /no retention rule/);
    assert.throws(() => planRetention(list, { last: 2, daily: -1 }, NOW), /keep daily/);
    assert.throws(() => planRetention(list, { weekly: 1.5 }, NOW), /keep weekly/);
    assert.throws(() => planRetention(list, { withinMs: Number.NaN }, NOW), /keep within/);
    assert.equal(hasRules({}), false);
    assert.equal(hasRules({ daily: 0, withinLabel: '1d' }), false);
    assert.equal(hasRules({ yearly: 1 }), true);
    assert.equal(hasRules({ withinMs: 1 }), true);
  });

  it('buckets days in local time (TZ)', () => {
    // 12:30Z and 13:30Z are one UTC day, but 23:30 on the 20th and 00:30 on the 21st in Sydney (UTC+11).
    const list = [b(1, '2026-11-20T13:30:00Z'), b(2, '2026-11-20T12:30:00Z'), b(3, '2026-11-19T12:00:00Z')];
    assert.deepEqual(kept(plan(list, { daily: 2 })), [1, 3]);
    process.env.TZ = 'Australia/Sydney';
    try {
      const d = plan(list, { daily: 2 });
      assert.deepEqual(kept(d), [1, 2]);
      assert.deepEqual(reasonsOf(d, 1), ['daily 2026-11-21']);
      assert.deepEqual(reasonsOf(d, 2), ['daily 2026-11-20']);
    } finally {
      process.env.TZ = 'UTC';
    }
    assert.deepEqual(reasonsOf(plan(list, { daily: 1 }), 1), ['daily 2026-11-20']);
  });

  it('matches Date getters around daylight-saving changes, including half-hour ones', () => {
    // Every 10 minutes for 4 days around each change; the expected plan walks the same rule with
    // keys built from Date's local getters, one Date per backup.
    const cases = [
      ['America/New_York', '2026-10-30T00:00:00Z'], // back an hour on Nov 1, next to a month change
      ['America/New_York', '2026-03-06T00:00:00Z'], // forward an hour on Mar 8
      ['Australia/Lord_Howe', '2026-04-03T00:00:00Z'], // back half an hour on Apr 5
      ['Australia/Lord_Howe', '2026-10-02T00:00:00Z'], // forward half an hour on Oct 4
      ['Asia/Kathmandu', '2026-12-30T00:00:00Z'], // +05:45, no change: hours do not start on UTC hours
    ] as const;
    const keyOf: Record<'hourly' | 'daily' | 'monthly', (d: Date) => string> = {
      hourly: (d) => `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}-${d.getHours()}`,
      daily: (d) => `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`,
      monthly: (d) => `${d.getFullYear()}-${d.getMonth()}`,
    };
    try {
      for (const [zone, from] of cases) {
        process.env.TZ = zone;
        const list = Array.from({ length: 4 * 144 }, (_, k) => b(k + 1, new Date(Date.parse(from) + k * 600_000).toISOString()));
        for (const unit of ['hourly', 'daily', 'monthly'] as const) {
          const expected: number[] = [];
          let lastKey: string | undefined;
          for (const x of [...list].reverse()) {
            const key = keyOf[unit](new Date(x.time));
            if (key !== lastKey) expected.push(x.id);
            lastKey = key;
          }
          assert.deepEqual(
            kept(plan(list, { [unit]: 1000 })),
            expected.sort((x, y) => x - y),
            `${zone} ${from} ${unit}`,
          );
        }
      }
    } finally {
      process.env.TZ = 'UTC';
    }
  });

  it('plans a million backups in 10 groups quickly', () => {
    const groups = 10;
    const perGroup = 100_000;
    const start = Date.parse('2015-01-01T00:00:00Z');
    const list: RetentionBackup[] = [];
    // Catalog order: by id, i.e. oldest first, groups interleaved; one in 1000 failed.
    for (let i = 0; i < groups * perGroup; i++) {
      const kind: BackupKind = i % 1000 === 7 ? 'failed' : 'good';
      list.push({ id: i + 1, group: `service/target-${i % groups}`, time: start + Math.floor(i / groups) * HOUR, kind });
    }
    const rules: KeepRules = { last: 5, hourly: 48, daily: 30, weekly: 52, monthly: 24, yearly: 20, withinMs: 7 * DAY, withinLabel: '7d' };
    const now = new Date(start + perGroup * HOUR);
    const began = performance.now();
    const d = planRetention(list, rules, now);
    const ms = performance.now() - began;
    console.log(`planRetention: ${list.length} backups in ${groups} groups: ${ms.toFixed(0)} ms`);
    assert.ok(ms < 20_000, `took ${ms} ms: something went quadratic (pnpm bench:catalog measures it)`);
    assert.equal(d.length, list.length);
    // Groups 0 and 9 hold backups at the same times, all good: they keep the same times.
    const keptTimes = (group: string) => d.filter((x) => x.keep && x.group === group).map((x) => x.time);
    assert.deepEqual(keptTimes('service/target-9'), keptTimes('service/target-0'));
    // The newest (2026-05-29 15:00) is kept by every rule; the oldest only by nothing.
    assert.deepEqual(reasonsOf(d, list.length - 9), ['last 5', 'hourly 2026-05-29 15h', 'daily 2026-05-29', 'weekly 2026-W22', 'monthly 2026-05', 'yearly 2026', 'within 7d']);
    assert.deepEqual(reasonsOf(d, 1), ['not kept by any rule']);
    // The newest backup of 2015 is kept by yearly alone.
    assert.deepEqual(d.find((x) => x.time === Date.parse('2015-12-31T23:00:00Z') && x.group === 'service/target-0')?.reasons, ['yearly 2015']);
  });
  it('planGroup plans one group from columns, with reasons only for the kept backups', () => {
    // The held-backup case above, as columns in a shuffled order.
    const ids = [3, 6, 1, 5, 2, 4];
    const times = ['2026-11-03', '2026-11-01', '2026-11-05', '2026-11-01T12:00', '2026-11-04', '2026-11-02'].map((x) => Date.parse(`${x}Z`));
    const kinds = ['failed', 'failed', 'good', 'suspect', 'good', 'good'].map((k) => BACKUP_KINDS.indexOf(k as BackupKind));
    const holds = new Map([
      [2, 'in use by a restore (pid 12)'],
      [5, 'in use by a restore (pid 13)'],
      [1, 'being verified'],
    ]);
    const p = planGroup({ ids, times, kinds, holds }, { last: 2 }, NOW);
    assert.deepEqual([...p.keep], [0, 1, 1, 0, 1, 1]);
    assert.deepEqual([...p.reasons.keys()].sort(), [1, 2, 4, 5]);
    assert.deepEqual(p.reasons.get(2), ['last 2', 'in use by a restore (pid 12)']);
    assert.deepEqual(p.reasons.get(4), ['last 2']);
    assert.deepEqual(p.reasons.get(5), ['in use by a restore (pid 13)']);
    assert.deepEqual(p.reasons.get(1), ['being verified']);
    assert.equal(p.removedReason[kinds[0]], 'failed: older than every kept backup');
    assert.equal(p.removedReason[kinds[3]], 'suspect: older than every kept backup');
    assert.deepEqual(p.removedReason, [
      'not kept by any rule',
      'failed: older than every kept backup',
      'suspect: older than every kept backup',
      'unverified: older than every kept backup',
    ]);
    // No good backup: all kept, each with its own reasons array.
    const none = planGroup({ ids: [1, 2], times: [1, 2], kinds: [1, 3] }, { daily: 1 }, NOW);
    assert.deepEqual([...none.keep], [1, 1]);
    assert.deepEqual(none.reasons.get(0), ['no good backup of this target: nothing removed']);
    assert.notEqual(none.reasons.get(0), none.reasons.get(1));
    const empty = planGroup({ ids: [], times: [], kinds: [] }, { last: 1 }, NOW);
    assert.equal(empty.keep.length, 0);
    assert.equal(empty.reasons.size, 0);
  });

  it('planGroup refuses bad rules and bad columns', () => {
    const ok: GroupColumns = { ids: [1, 2], times: [1, 2], kinds: [0, 0] };
    assert.throws(() => planGroup(ok, {}, NOW), /no retention rule/);
    assert.throws(() => planGroup(ok, { monthly: 1.5 }, NOW), /keep monthly/);
    assert.throws(() => planGroup({ ...ok, times: [1, Number.NaN] }, { last: 1 }, NOW), /backup 2: time NaN is not a date/);
    assert.throws(() => planGroup({ ...ok, kinds: [0, 4] }, { last: 1 }, NOW), /backup 2: kind 4/);
    assert.throws(() => planGroup({ ...ok, ids: [1] }, { last: 1 }, NOW), /differ in length/);
    assert.throws(() => planGroup({ ...ok, holds: new Map([[2, 'x']]) }, { last: 1 }, NOW), /hold on index 2/);
  });

  it('planGroup and planRetention agree with a plain reference on random backups, rules and input orders', () => {
    // A small seeded generator (mulberry32): the same cases on every run.
    let seed = 20261122;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    };
    const span = 3 * 365 * DAY;
    const from = NOW.getTime() - span;
    const ruleSets: KeepRules[] = [
      { last: 3 },
      { daily: 7, weekly: 4, monthly: 12 },
      { hourly: 48, yearly: 5 },
      { withinMs: 90 * DAY },
      { last: 2, hourly: 10, daily: 30, weekly: 20, monthly: 24, yearly: 3, withinMs: 14 * DAY, withinLabel: '2w' },
      { monthly: Infinity },
    ];
    const groups = ['mysql/main', 'redis/cache', 'files/etc'];
    let compared = 0;
    for (const order of ['shuffled', 'ascending', 'descending'] as const) {
      const list: RetentionBackup[] = [];
      for (let i = 0; i < 2000; i++) {
        // Times on a 10-minute grid, so some backups tie and the higher id must win.
        const time = from + Math.floor((random() * span) / 600_000) * 600_000;
        const r = random();
        const kind: BackupKind = r < 0.7 ? 'good' : r < 0.8 ? 'failed' : r < 0.9 ? 'suspect' : 'unverified';
        const group = groups[Math.floor(random() * (order === 'shuffled' ? 3 : 1))];
        list.push({ id: 1 + Math.floor(random() * 100_000), group, time, kind, ...(random() < 0.01 ? { hold: `hold ${i}` } : {}) });
      }
      if (order !== 'shuffled') list.sort((x, y) => (x.time - y.time || x.id - y.id) * (order === 'ascending' ? 1 : -1));
      // Plus a group with no good backup.
      list.push(b(200_001, '2025-03-01T00:00:00Z', 'failed', 'none'), b(200_002, '2024-03-01T00:00:00Z', 'suspect', 'none'));
      assert.ok(list.some((x) => x.hold && x.kind === 'good') && list.some((x) => x.hold && x.kind !== 'good'));
      for (const rules of ruleSets) {
        const decisions = planRetention(list, rules, NOW);
        for (const group of [...groups, 'none']) {
          const members = list.filter((x) => x.group === group);
          if (members.length === 0) continue;
          const expected = decisions.filter((x) => x.group === group);
          const holds = new Map<number, string>();
          members.forEach((x, i) => x.hold && holds.set(i, x.hold));
          const columns = {
            ids: members.map((x) => x.id),
            times: Float64Array.from(members, (x) => x.time),
            kinds: Uint8Array.from(members, (x) => BACKUP_KINDS.indexOf(x.kind)),
            holds,
          };
          const p = planGroup(columns, rules, NOW);
          assert.deepEqual(
            [...p.keep].map((k) => k === 1),
            referenceKeep(members, rules, NOW),
            `${order} ${group} ${JSON.stringify(rules)}: keep, against the reference`,
          );
          assert.deepEqual(
            [...p.keep].map((k) => k === 1),
            expected.map((x) => x.keep),
            `${order} ${group} ${JSON.stringify(rules)}: keep`,
          );
          const reasons = members.map((x, i) => (p.keep[i] === 1 ? p.reasons.get(i) : [p.removedReason[columns.kinds[i]]]));
          assert.deepEqual(
            reasons,
            expected.map((x) => x.reasons),
            `${order} ${group} ${JSON.stringify(rules)}: reasons`,
          );
          assert.equal(p.reasons.size, expected.filter((x) => x.keep).length, 'reasons for the kept only');
          compared += members.length;
        }
      }
    }
    assert.equal(compared, 3 * 6 * 2002);
  });

  it('planGroup plans a million backups of one group quickly', () => {
    const columnsOf = (n: number, firstId: number): GroupColumns => {
      const ids = new Float64Array(n);
      const times = new Float64Array(n);
      const kinds = new Uint8Array(n);
      // Catalog order: ascending, hourly; one in 1000 failed.
      for (let i = 0; i < n; i++) {
        ids[i] = firstId + i;
        times[i] = Date.parse('2015-01-01T00:00:00Z') + i * HOUR;
        kinds[i] = i % 1000 === 7 ? 1 : 0;
      }
      return { ids, times, kinds };
    };
    const rules: KeepRules = { daily: 7, weekly: 4, monthly: 12 };
    const one = columnsOf(1_000_000, 1);
    const now = new Date(one.times[999_999] + HOUR);
    let began = performance.now();
    const p = planGroup(one, rules, now);
    const ms = performance.now() - began;
    console.log(`planGroup: 1000000 backups in 1 group: ${ms.toFixed(0)} ms`);
    assert.ok(ms < 20_000, `took ${ms} ms: something went quadratic (pnpm bench:catalog measures it)`);
    // The newest is kept by every rule; the newest of 12 months and 4 weeks and 7 days, and the
    // failed backups newer than the oldest of those.
    assert.deepEqual(p.reasons.get(999_999), ['daily 2129-01-29', 'weekly 2129-W04', 'monthly 2129-01']);
    assert.deepEqual(p.reasons.get(0), undefined);
    assert.equal(p.keep[0], 0);
    const monthlyKept = [...p.reasons.values()].filter((r) => r.some((x) => x.startsWith('monthly'))).length;
    assert.equal(monthlyKept, 12);

    const ten = Array.from({ length: 10 }, (_, g) => columnsOf(100_000, 1 + g * 100_000));
    const nowTen = new Date(ten[0].times[99_999] + HOUR);
    began = performance.now();
    for (const columns of ten) planGroup(columns, rules, nowTen);
    console.log(`planGroup: 1000000 backups in 10 groups of 100000: ${(performance.now() - began).toFixed(0)} ms`);
  });
});
