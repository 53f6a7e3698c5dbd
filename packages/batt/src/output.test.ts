import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { colourStatus, printJson, printJsonList, printTable, shortVersion, text } from './output.js';

describe('shortVersion', () => {
  it('keeps the product and version of a PostgreSQL version() or mysqldump line, not the build or platform; leaves short versions as they are', () => {
    const cases = [
      ['PostgreSQL 15.19 (Debian 15.19-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14+deb12u1) 12.2.0, 64-bit', 'PostgreSQL 15.19'],
      ['PostgreSQL 17.2 on aarch64-unknown-linux-gnu, compiled by gcc (GCC) 13.2.1, 64-bit', 'PostgreSQL 17.2'],
      ['pg_dump (PostgreSQL) 15.19 (Debian 15.19-0+deb12u1)', 'pg_dump (PostgreSQL) 15.19'],
      ['10.11.19-MariaDB-0+deb12u1', '10.11.19-MariaDB-0+deb12u1'],
      ['7.0.15', '7.0.15'],
      ['mysqldump  Ver 10.19 Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)', 'mysqldump  Ver 10.19 Distrib 10.11.19-MariaDB'],
    ];
    assert.deepEqual(
      cases.map(([line]) => shortVersion(line!)),
      cases.map(([, short]) => short),
    );
  });
});

describe('text and printTable', () => {
  it('escape every value put in, but not the template nor what batt coloured', () => {
    const path = '/srv/a\nbatt: run 99 ok\x1b[31m';
    assert.equal(text`file ${path}\n`.text, 'file /srv/a\\nbatt: run 99 ok\\x1b[31m\n');
    assert.equal(text`${colourStatus('ok')} ${text`x ${'\r'}`}`.text, `${colourStatus('ok').text} x \\r`);
  });

  it('pads escaped cells to their printed width', () => {
    const written: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => written.push(chunk) > 0) as unknown as typeof process.stdout.write;
    try {
      printTable(
        ['A', 'B'],
        [
          ['x\ny', 'z'],
          [colourStatus('ok'), '\x1b[2J'],
        ],
      );
    } finally {
      process.stdout.write = write;
    }
    assert.deepEqual(written.join('').split('\n').slice(1, 3), ['x\\ny  z', `${colourStatus('ok').text}    \\x1b[2J`]);
  });
});

/** What `print` writes to stdout, and in how many writes. */
function stdoutOf(print: () => void): { text: string; writes: number } {
  const written: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => written.push(chunk) > 0) as unknown as typeof process.stdout.write;
  try {
    print();
  } finally {
    process.stdout.write = write;
  }
  return { text: written.join(''), writes: written.length };
}

describe('printJsonList', () => {
  it('writes what printJson writes, byte for byte, for no entries, one, and nested ones', () => {
    const head = { dryRun: true, rules: { file: 'keep-last 1' }, warnings: ['a [] b'], none: [] };
    for (const list of [
      [],
      [{ itemId: 1 }],
      [
        { itemId: 1, reasons: ['last', 'daily'], nested: { a: [1, [2]] } },
        { itemId: 2, runId: undefined },
      ],
    ]) {
      assert.equal(stdoutOf(() => printJsonList(head, 'backups', list)).text, stdoutOf(() => printJson({ ...head, backups: list })).text);
    }
  });

  it('writes a long listing a piece at a time, never as one string', () => {
    function* many(): Generator<object> {
      for (let i = 0; i < 30_000; i++) yield { itemId: i, target: '/srv/data', reasons: ['keep-daily'] };
    }
    const { text, writes } = stdoutOf(() => printJsonList({ dryRun: true }, 'backups', many()));
    assert.ok(writes > 1, `${writes} writes`);
    const parsed = JSON.parse(text) as { backups: { itemId: number }[] };
    assert.equal(parsed.backups.length, 30_000);
    assert.equal(parsed.backups[29_999].itemId, 29_999);
  });
});
