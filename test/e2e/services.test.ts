import assert from 'node:assert/strict';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync } from 'node:fs';
import { execa } from 'execa';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { battBin, json, sandboxFor } from '../lib/batt.js';

describe('batt list / enable / disable', () => {
  const box = sandboxFor('each');

  it('seeds a new home and lists the built-in file service, disabled', async () => {
    const r = await box.batt(['list', '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    const file = json<any[]>(r).find((s) => s.name === 'file');
    assert.deepEqual([file.kind, file.enabled, file.aliases], ['built-in', false, ['files']]);
    assert.ok(existsSync(join(box.home, 'scripts-available', 'backup-file')));
    assert.equal(lstatSync(join(box.home)).mode & 0o777, 0o700);
  });

  it('enables with a relative symlink, and enabling twice is harmless', async () => {
    const r = await box.batt(['enable', 'files']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /enabled file/);
    const link = join(box.home, 'scripts-enabled', 'backup-file');
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(readlinkSync(link), join('..', 'scripts-available', 'backup-file'));
    const again = await box.batt(['enable', 'file']);
    assert.equal(again.exitCode, 0);
    assert.match(again.stdout, /already enabled/);
    const enabled = json<any[]>(await box.batt(['list', 'enabled', '--json']));
    assert.deepEqual(
      enabled.map((s) => s.name),
      ['file'],
    );
    const disabled = json<any[]>(await box.batt(['list', 'disabled', '--json'])).map((s) => s.name);
    assert.ok(!disabled.includes('file') && disabled.includes('mysql'), disabled.join());
  });

  it('refuses an unknown service, naming the known ones, and changes nothing', async () => {
    const r = await box.batt(['enable', 'nosuch', 'file']);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /unknown service "nosuch"/);
    assert.match(r.stderr, /known services: .*file/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.ok(!existsSync(join(box.home, 'scripts-enabled', 'backup-file')), 'file, named beside it, was not enabled');
  });

  it('disables, and disabling twice says so', async () => {
    assert.equal((await box.batt(['enable', 'file'])).exitCode, 0);
    assert.ok(existsSync(join(box.home, 'scripts-enabled', 'backup-file')));
    const r = await box.batt(['disable', 'file']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.ok(!existsSync(join(box.home, 'scripts-enabled', 'backup-file')));
    const again = await box.batt(['disable', 'file']);
    assert.equal(again.exitCode, 0);
    assert.match(again.stdout, /was not enabled/);
  });

  it('lists a drop-in script as a script', async () => {
    const { writeFileSync } = await import('node:fs');
    assert.equal((await box.batt(['list'])).exitCode, 0, 'the home is set up');
    writeFileSync(join(box.home, 'scripts-available', 'backup-custom'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const all = json<any[]>(await box.batt(['list', '--json']));
    const custom = all.find((s) => s.name === 'custom');
    assert.equal(custom.kind, 'script');
    const table = await box.batt(['list']);
    assert.match(table.stdout, /custom\s+no\s+script/);
  });

  it('answers --version without loading the CLI', async () => {
    // The entry point and package.json alone, without the bundle the CLI lives in: --version
    // still answers (so it loads nothing else), while any other command cannot.
    const bare = join(box.dir, 'bare');
    mkdirSync(join(bare, 'bin'), { recursive: true });
    copyFileSync(battBin, join(bare, 'bin', 'batt.js'));
    copyFileSync(join(battBin, '..', '..', 'package.json'), join(bare, 'package.json'));
    const { version } = JSON.parse(readFileSync(join(bare, 'package.json'), 'utf8'));
    for (const flag of ['--version', '-V']) {
      const r = await execa(process.execPath, [join(bare, 'bin', 'batt.js'), flag], { reject: false, extendEnv: false, env: box.env() });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.stdout, version);
    }
    const other = await execa(process.execPath, [join(bare, 'bin', 'batt.js'), 'list'], { reject: false, extendEnv: false, env: box.env() });
    assert.notEqual(other.exitCode, 0, 'without the bundle, a real command cannot run');
  });
});
