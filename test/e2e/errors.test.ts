import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { pathToFileURL } from 'node:url';
import { dataFor, json, lockFree, repoRoot } from '../lib/batt.js';

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

  it('a YAML config of comments only sets nothing, and one line that is not a comment is read', async () => {
    // A new home's batt.config.yaml is all comments: batt reads it without a YAML parser.
    const conf = join(box.dir, 'notes.yaml');
    writeFileSync(conf, '# nothing yet\n\n   # indented\r\n\t\n');
    const elsewhere = join(box.dir, 'commented-out');
    const quiet = await box.batt(['--config', conf, '--file', data, '--path', elsewhere, '--json']);
    assert.equal(quiet.exitCode, 0, quiet.stderr);
    assert.ok(json(quiet).items[0].file.startsWith(`${elsewhere}/`), json(quiet).items[0].file);
    writeFileSync(conf, `# a comment, then a key\ncompression: lz4\n`);
    const read = await box.batt(['--config', conf, '--file', data, '--path', box.out]);
    assert.equal(read.exitCode, 2, 'the key after the comment was not read');
    assert.match(read.stderr, /"compression" must be one of "zstd", "gzip", "none"/);
    // Old Mac line ends: one line to a split on \n, two to YAML.
    writeFileSync(conf, '# a comment\rcompression: lz4\r');
    const cr = await box.batt(['--config', conf, '--file', data, '--path', box.out]);
    assert.equal(cr.exitCode, 2, 'the key after a CR line end was not read');
    assert.match(cr.stderr, /"compression" must be one of/);
    writeFileSync(conf, '# then a line that is no YAML\n  paths: [unclosed\n');
    const bad = await box.batt(['--config', conf, '--file', data, '--path', box.out]);
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /cannot parse the config .*notes\.yaml/);
    noStack(bad.stderr);
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

  it('a second run on the same home exits 75 naming the run that holds the lock; once that run is SIGKILLed, the next goes ahead with no manual step', async () => {
    // Another batt holds the lock: a process that takes it as batt does, then dies by SIGKILL.
    const lockJs = pathToFileURL(join(repoRoot, 'packages', 'core', 'dist', 'home', 'lock.js')).href;
    const holder = execa(process.execPath, [
      '--input-type=module',
      '-e',
      `import { acquireLock } from ${JSON.stringify(lockJs)}; const lock = acquireLock(${JSON.stringify(box.home)}); console.log('held'); process.on('SIGTERM', () => lock.release()); setInterval(() => {}, 1000);`,
    ]);
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.once('data', () => resolve());
        holder.catch(reject);
      });
      const r = await box.batt(['--file', data, '--path', box.out]);
      assert.equal(r.exitCode, 75);
      assert.match(r.stderr, new RegExp(`another batt run \\(pid ${holder.pid}\\)`));
      nothingWritten();
    } finally {
      holder.kill('SIGKILL');
      await holder.catch(() => {});
    }
    assert.equal(await lockFree(box.home), true, 'the kernel released the lock of the killed run');
    const ok = await box.batt(['--file', data, '--path', box.out, '--json']);
    assert.equal(ok.exitCode, 0, ok.stderr);
    assert.equal(json(ok).status, 'ok');
    assert.equal(await lockFree(box.home), true, 'lock released');
  });

  it('a batt.lock of an older batt (its pid in text) is honoured while that pid lives, and taken over after', async () => {
    const out = join(box.dir, 'old-lock'); // the test before wrote into box.out
    const sleeper = execa('sleep', ['30']);
    try {
      writeFileSync(join(box.home, 'batt.lock'), `${sleeper.pid}\n`);
      const r = await box.batt(['--file', data, '--path', out]);
      assert.equal(r.exitCode, 75);
      assert.match(r.stderr, new RegExp(`another batt run \\(pid ${sleeper.pid}\\)`));
      assert.equal(existsSync(out), false, 'nothing written');
    } finally {
      sleeper.kill();
      await sleeper.catch(() => {});
    }
    // A pid no process can have (above the kernel's pid_max): the old lock is stale.
    const deadPid = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1;
    writeFileSync(join(box.home, 'batt.lock'), `${deadPid}\n`);
    const ok = await box.batt(['--file', data, '--path', out, '--json']);
    assert.equal(ok.exitCode, 0, ok.stderr);
    assert.equal(await lockFree(box.home), true, 'lock released');
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
