import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { closeCatalog, openCatalog } from '../catalog/db.js';
import { addItem, createRun, finishRun } from '../catalog/queries.js';
import { finishCheck, startCheck } from '../restore/select.js';
import { metricsOf, writeMetricsFile } from './index.js';
import { exposition } from './textfile.js';

interface Parsed {
  families: Map<string, { help?: string; type?: string; samples: { labels: Record<string, string>; value: number }[] }>;
}

/**
 * A strict reader of the text exposition format 0.0.4, as promtool reads it: every line a HELP, a
 * TYPE or a sample; HELP and TYPE at most once per family and before its samples; a family's
 * samples together; label values with only \\, \" and \n escapes; no series twice; Go floats.
 */
function parse(text: string): Parsed {
  assert.ok(text.endsWith('\n'), 'ends with a newline');
  const name = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const families: Parsed['families'] = new Map();
  const closed = new Set<string>();
  let current = '';
  const family = (n: string) => {
    if (n !== current) {
      assert.ok(!closed.has(n), `${n}: its lines are not together`);
      if (current) closed.add(current);
      current = n;
    }
    if (!families.has(n)) families.set(n, { samples: [] });
    return families.get(n)!;
  };
  for (const line of text.slice(0, -1).split('\n')) {
    const meta = new RegExp(`^# (HELP|TYPE) (${name}) (.*)$`).exec(line);
    if (meta) {
      const f = family(meta[2]);
      assert.equal(f.samples.length, 0, `${line}: after a sample`);
      if (meta[1] === 'HELP') {
        assert.equal(f.help, undefined, `${meta[2]}: two HELP lines`);
        assert.doesNotMatch(meta[3].replace(/\\[\\n]/g, ''), /\\/, `${line}: a bad escape in HELP`);
        f.help = meta[3];
      } else {
        assert.equal(f.type, undefined, `${meta[2]}: two TYPE lines`);
        assert.match(meta[3], /^(counter|gauge|histogram|summary|untyped)$/);
        f.type = meta[3];
      }
      continue;
    }
    const sample = new RegExp(`^(${name})(?:\\{(.*)\\})? (\\S+)$`).exec(line);
    assert.ok(sample, `not a sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    let rest = sample[2] ?? '';
    while (rest) {
      const label = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/.exec(rest);
      assert.ok(label, `bad labels in ${JSON.stringify(line)}`);
      assert.ok(!(label[1] in labels), `label ${label[1]} twice`);
      labels[label[1]] = label[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(label[0].length);
    }
    assert.match(sample[3], /^([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|NaN|[+-]Inf)$/, `value of ${line}`);
    const f = family(sample[1]);
    assert.ok(f.type, `${sample[1]}: a sample before its TYPE`);
    const key = JSON.stringify(Object.entries(labels).sort());
    assert.ok(!f.samples.some((s) => JSON.stringify(Object.entries(s.labels).sort()) === key), `${line}: the series twice`);
    f.samples.push({ labels, value: Number(sample[3].replace('Inf', 'Infinity')) });
  }
  return { families };
}

describe('the metrics textfile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'batt-metrics-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('escapes label values and help by the format, and the strict reader gets them back', () => {
    const odd = 'C:\\path "quoted"\nline two';
    const text = exposition([
      { name: 'batt_x', help: 'a \\ backslash\nand a newline', type: 'gauge', samples: [{ labels: { target: odd, service: 'file' }, value: 1.5 }, { value: NaN }] },
      { name: 'batt_empty', help: 'no samples', type: 'gauge', samples: [] },
      { name: 'batt_y', help: 'infinite', type: 'gauge', samples: [{ value: Infinity }, { labels: { a: '' }, value: -Infinity }] },
    ]);
    assert.match(text, /^# HELP batt_x a \\\\ backslash\\nand a newline$/m);
    assert.match(text, /^batt_x\{target="C:\\\\path \\"quoted\\"\\nline two",service="file"\} 1\.5$/m);
    const parsed = parse(text);
    assert.deepEqual([...parsed.families.keys()], ['batt_x', 'batt_y'], 'a family without samples is left out');
    assert.equal(parsed.families.get('batt_x')!.samples[0].labels.target, odd);
    assert.ok(Number.isNaN(parsed.families.get('batt_x')!.samples[1].value));
    assert.deepEqual(
      parsed.families.get('batt_y')!.samples.map((s) => s.value),
      [Infinity, -Infinity],
    );
  });

  it('the strict reader refuses what promtool refuses', () => {
    for (const bad of [
      'batt_x 1\n',
      '# TYPE batt_x gauge\nbatt_x{a="b} 1\n',
      '# TYPE batt_x gauge\nbatt_x{a="\\t"} 1\n',
      '# TYPE batt_x gauge\nbatt_x 1\nbatt_x 2\n',
      '# TYPE batt_x gauge\nbatt_x one\n',
    ])
      assert.throws(() => parse(bad), Error, bad);
  });

  it('reads every target of the catalog: last run, last good backup, bytes, suspects, checks; secrets masked in labels', async () => {
    const db = await openCatalog(join(dir, 'catalog.db'));
    try {
      const at = (day: number, s = 0): string => new Date(Date.UTC(2026, 0, day, 3, 0, s)).toISOString();
      const run1 = createRun(db, { startedAt: at(1), host: 'h', user: 'u', destination: '/b', services: 'file,mysql', pid: 1 });
      const good = addItem(db, { runId: run1, service: 'file', target: '/etc', file: '/b/etc.tar', bytes: 1000, startedAt: at(1), finishedAt: at(1, 4), status: 'ok' });
      addItem(db, { runId: run1, service: 'mysql', target: 'shop', file: '/b/shop.sql', bytes: 500, startedAt: at(1), finishedAt: at(1, 2), status: 'ok' });
      addItem(db, { runId: run1, service: 'mysql', target: 'pw-s3cret', file: '/b/x.sql', bytes: 5, startedAt: at(1), finishedAt: at(1, 1), status: 'ok' });
      finishRun(db, run1, 'ok');
      const run2 = createRun(db, { startedAt: at(2), host: 'h', user: 'u', destination: '/b', services: 'file,mysql', pid: 1 });
      addItem(db, { runId: run2, service: 'file', target: '/etc', file: '/b/etc2.tar', bytes: 10, startedAt: at(2), finishedAt: at(2, 3), status: 'ok', suspect: 'fell by 99%' });
      addItem(db, { runId: run2, service: 'mysql', target: 'shop', startedAt: at(2), finishedAt: at(2, 1), status: 'failed', error: 'refused' });
      finishRun(db, run2, 'partial');
      db.$client.prepare('update runs set finished_at = ? where id = ?').run(at(2, 10), run2);
      finishCheck(db, startCheck(db, good, 'verify')!, { ok: false, checks: [], error: 'bad' });

      const path = join(dir, 'batt.prom');
      writeMetricsFile(path, exposition(metricsOf(db, new Set(['s3cret']))));
      assert.equal(statSync(path).mode & 0o777, 0o644);
      assert.deepEqual(
        readdirSync(dir).filter((n) => n.endsWith('.tmp')),
        [],
        'no temporary file left',
      );
      const text = readFileSync(path, 'utf8');
      assert.doesNotMatch(text, /s3cret/);
      const m = parse(text).families;
      const value = (name: string, labels: Record<string, string> = {}): number | undefined =>
        m.get(name)?.samples.find((s) => JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
      const etc = { service: 'file', target: '/etc' };
      const shop = { service: 'mysql', target: 'shop' };
      assert.equal(value('batt_last_run_id'), run2);
      assert.equal(value('batt_last_run_status', { status: 'partial' }), 1);
      assert.equal(value('batt_last_run_status', { status: 'ok' }), 0);
      assert.equal(value('batt_last_run_timestamp_seconds'), Date.parse(at(2, 10)) / 1000);
      assert.equal(value('batt_last_run_duration_seconds'), 10);
      assert.equal(value('batt_last_success_timestamp_seconds', etc), Date.parse(at(1, 4)) / 1000, 'a suspect backup is not a success');
      assert.equal(value('batt_last_backup_success', etc), 0);
      assert.equal(value('batt_last_backup_success', shop), 0);
      assert.equal(value('batt_last_success_timestamp_seconds', shop), Date.parse(at(1, 2)) / 1000);
      assert.equal(value('batt_last_backup_timestamp_seconds', shop), Date.parse(at(2, 1)) / 1000);
      assert.equal(value('batt_last_backup_duration_seconds', etc), 3);
      assert.equal(value('batt_last_backup_bytes', etc), 1000, 'the newest good backup');
      assert.equal(value('batt_suspect_backups', etc), 1);
      assert.equal(value('batt_suspect_backups', shop), 0);
      assert.equal(value('batt_last_backup_success', { service: 'mysql', target: 'pw-********' }), 1);
      assert.equal(value('batt_last_check_success', { ...etc, check: 'verify' }), 0);
      assert.equal(m.get('batt_last_check_success')!.samples.length, 1);
    } finally {
      closeCatalog(db);
    }
  });
});
