import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { dataFor, json } from '../lib/batt.js';

const noStack = (stderr: string): void => assert.doesNotMatch(stderr, /\n\s+at .*:\d+:\d+/, `stack trace in:\n${stderr}`);

describe('bad input gets one clear message, exit 2, and changes nothing', () => {
  const { box, data } = dataFor({ x: 'x' });

  const nothingWritten = (): void => assert.ok(!existsSync(box.out) || readdirSync(box.out).length === 0, 'nothing written');

  it('unknown service', async () => {
    const r = await box.batt(['nosuchservice', '--path', box.out]);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /unknown service "nosuchservice"/);
    assert.match(r.stderr, /known services: file/);
    noStack(r.stderr);
    nothingWritten();
  });

  it('unknown option', async () => {
    const r = await box.batt(['--fiel', data, '--path', box.out]);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /^batt: unknown option --fiel; did you mean --file\?$/m);
    assert.match(r.stderr, /batt --help/);
    noStack(r.stderr);
    nothingWritten();
  });

  it('unknown strftime specifier or placeholder in --path', async () => {
    const r = await box.batt(['--file', data, '--path', join(box.out, '%Y/%Q')]);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /unknown date specifier "%Q"/);
    assert.match(r.stderr, /%Y/);
    const p = await box.batt(['--file', data, '--path', join(box.out, '{hostname}')]);
    assert.equal(p.exitCode, 2);
    assert.match(p.stderr, /unknown placeholder "\{hostname\}"/);
    nothingWritten();
  });

  it('malformed config file names the file', async () => {
    const conf = join(box.dir, 'bad.yaml');
    writeFileSync(conf, 'file:\n  paths: [unclosed\n');
    const r = await box.batt(['--config', conf, '--file', data, '--path', box.out]);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /bad\.yaml/);
    noStack(r.stderr);
    nothingWritten();
  });

  it('wrong key or type names the key, the file and the expected form', async () => {
    const conf = join(box.dir, 'batt.config.json');
    writeFileSync(conf, JSON.stringify({ file: { exclude: 5 } }));
    const r = await box.batt(['--config', conf, '--file', data, '--path', box.out]);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /batt\.config\.json: "file\.exclude" must be a list of strings, got 5/);
    writeFileSync(conf, JSON.stringify({ fiel: {} }));
    const k = await box.batt(['--config', conf, '--file', data, '--path', box.out]);
    assert.equal(k.exitCode, 2);
    assert.match(k.stderr, /unknown key "fiel"/);
    assert.match(k.stderr, /valid top-level keys: .*file/);
    writeFileSync(conf, JSON.stringify({ compression: 'lz4' }));
    const c = await box.batt(['--config', conf, '--file', data, '--path', box.out]);
    assert.equal(c.exitCode, 2);
    assert.match(c.stderr, /"compression" must be one of "zstd", "gzip", "none"/);
    writeFileSync(conf, '{}');
    nothingWritten();
  });

  it('a config holding a password must not be readable by others', async () => {
    const conf = join(box.dir, 'secret.json');
    writeFileSync(conf, JSON.stringify({ custom: { password: 'hunter2' } }), { mode: 0o644 });
    assert.equal((await box.batt(['list'])).exitCode, 0, 'the home is set up');
    writeFileSync(join(box.dir, 'home', 'scripts-available', 'backup-custom'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const r = await box.batt(['--config', conf, '--file', data, '--path', box.out]);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /readable by group or others/);
    assert.match(r.stderr, /chmod 600/);
    assert.doesNotMatch(r.stderr + r.stdout, /hunter2/);
  });

  it('the file service with no paths is a usage error, and no run is recorded', async () => {
    const before = (await box.batt(['runs', '--json'])).stdout;
    const r = await box.batt(['file', '--path', box.out]);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /the file service has no paths to back up/);
    assert.match(r.stderr, /--file PATH/);
    assert.equal((await box.batt(['runs', '--json'])).stdout, before);
    const empty = await box.batt(['--file']);
    assert.equal(empty.exitCode, 2);
    assert.match(empty.stderr, /--file needs a value/);
  });

  it('no service enabled and none named', async () => {
    const r = await box.batt(['--path', box.out]);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /no service is enabled/);
    assert.match(r.stderr, /batt enable file/);
  });

  it('a second run on the same home exits 75 with a clear message; a stale lock is taken over', async () => {
    const sleeper = execa('sleep', ['30']);
    try {
      writeFileSync(join(box.home, 'batt.lock'), `${sleeper.pid}\n`);
      const r = await box.batt(['--file', data, '--path', box.out]);
      assert.equal(r.exitCode, 75);
      assert.match(r.stderr, new RegExp(`another batt run \\(pid ${sleeper.pid}\\)`));
      nothingWritten();
    } finally {
      sleeper.kill();
      await sleeper.catch(() => {});
    }
    // A lock left by a pid that no process can have (above the kernel's pid_max) is stale: the
    // next run takes it over. (The sleeper's own pid may already belong to someone else.)
    const deadPid = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1;
    writeFileSync(join(box.home, 'batt.lock'), `${deadPid}\n`);
    const ok = await box.batt(['--file', data, '--path', box.out, '--json']);
    assert.equal(ok.exitCode, 0, ok.stderr);
    assert.equal(json(ok).status, 'ok');
    assert.ok(!existsSync(join(box.home, 'batt.lock')), 'lock released');
  });

  it('bad --concurrency and unknown show ref', async () => {
    const r = await box.batt(['--file', data, '-j', '0']);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /--concurrency must be a whole number/);
    const s = await box.batt(['show', '999999']);
    assert.equal(s.exitCode, 2);
    assert.match(s.stderr, /no run "999999"/);
  });
});
