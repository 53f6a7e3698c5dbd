import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BattError } from '../errors/errors.js';
import { checkConfigFile, checkConfigShape } from './limits.js';

const refused = (fn: () => void, message: RegExp): void => assert.throws(fn, (e: unknown) => e instanceof BattError && e.code === 'CONFIG' && message.test(e.message));

describe('config limits', () => {
  it('refuses a billion laughs at once: aliases count each time they are reached', () => {
    // What a YAML parser makes of nine levels of nine aliases: shared objects, 9^9 values reached.
    let level: unknown[] = Array(9).fill('lol');
    for (let i = 0; i < 9; i++) level = Array(9).fill(level);
    const started = Date.now();
    refused(() => checkConfigShape({ file: { paths: level } }, 'laughs.yaml'), /laughs\.yaml: .*more than 10000 values/);
    assert.ok(Date.now() - started < 1000);
  });

  it('refuses one long string repeated through aliases', () => {
    const long = 'x'.repeat(1024 * 1024);
    refused(() => checkConfigShape({ a: Array(5).fill(long) }, 'c.yaml'), /4 MiB of text/);
  });

  it('refuses nesting past 16 levels without recursing', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    refused(() => checkConfigShape(deep, 'deep.json'), /nested more than 16 levels/);
  });

  it('lets a real configuration through', () => {
    checkConfigShape(
      { destination: '/srv/%Y/{service}', file: { paths: ['/etc', '/var/www'], exclude: ['*.log'] }, mysql: { host: 'db', port: 3306 }, keep_daily: 7 },
      'batt.config.yaml',
    );
  });

  it('refuses a file over 1 MiB or not a regular file before reading it; a missing one passes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'batt-limits-'));
    try {
      writeFileSync(join(dir, 'big.yaml'), Buffer.alloc(1024 * 1024 + 1, 0x20));
      refused(() => checkConfigFile(join(dir, 'big.yaml')), /big\.yaml is 1\.0 MiB: a config file may be at most 1 MiB/);
      writeFileSync(join(dir, 'ok.yaml'), Buffer.alloc(1024 * 1024, 0x20));
      checkConfigFile(join(dir, 'ok.yaml'));
      refused(() => checkConfigFile(dir), /is not a regular file/);
      checkConfigFile(join(dir, 'missing.yaml'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
