/**
 * `timeout` and `stall_timeout`: an item that runs too long, or sends nothing for too long, is
 * stopped (its dump killed) and fails saying which limit it hit, instead of hanging for hours.
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { endlessTar, json, processWatch, realTool, sandboxFor, standIns } from '../lib/batt.js';

describe('timeouts', () => {
  const box = sandboxFor('each');
  const conf = (): string => join(box.home, 'conf', 'batt.config.yaml');
  const noPartialFiles = (): void => {
    const dir = join(box.out);
    const all = existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String) : [];
    assert.deepEqual(
      all.filter((f) => f.includes('.batt-tmp') || /\.tar\.zst$/.test(f)),
      [],
      'no temporary or partial artifact is left',
    );
  };

  it('stall_timeout: a dump that stops sending is killed and its item fails, naming the limit', async () => {
    const data = box.folder('data', { a: 'alpha' });
    const marker = join(box.dir, 'tar-started');
    appendFileSync(conf(), 'file:\n  stall_timeout: 2s\n');
    const started = Date.now();
    const r = await box.batt(['--file', data, '--json'], { env: { PATH: endlessTar(join(box.dir, 'bin'), marker, 1) } });
    const seconds = (Date.now() - started) / 1000;
    assert.equal(r.exitCode, 1, r.stderr);
    const item = json(r).items[0];
    assert.equal(item.status, 'failed');
    assert.match(item.error, /no data for 2s \(stall_timeout\).*raise file\.stall_timeout/);
    assert.ok(seconds < 30, `stopped in ${seconds} s, not after the dump's 600 s`);
    assert.equal(await processWatch(Number(readFileSync(marker, 'utf8'))).ended(5000), true, 'the stand-in tar was killed');
    noPartialFiles();
  });

  it('timeout: a dump that goes on sending past it is stopped too', async () => {
    const data = box.folder('data', { a: 'alpha' });
    appendFileSync(conf(), 'timeout: 3s\n');
    // Sends a little every half second, for a minute: never stalled, only too long.
    const path = standIns(join(box.dir, 'bin'), {
      tar: `#!/bin/sh\ncase " $* " in *" --version "*) exec '${realTool('tar')}' "$@";; esac\nwhile :; do head -c 65536 /dev/urandom; sleep 0.5; done\n`,
    });
    const r = await box.batt(['--file', data, '--json'], { env: { PATH: path } });
    assert.equal(r.exitCode, 1, r.stderr);
    assert.match(json(r).items[0].error, /stopped after 3s, its timeout/);
    noPartialFiles();
  });

  it('a drop-in script: its whole time is limited by timeout, never by stall_timeout (its bytes are not seen as they come)', async () => {
    await box.batt(['list']); // seeds the home
    const script = (seconds: number): string => `#!/bin/sh\nsleep ${seconds}\necho done > "$BATT_DEST/out.txt"\n`;
    writeFileSync(join(box.home, 'scripts-available', 'backup-slow'), script(600), { mode: 0o755 });
    writeFileSync(join(box.home, 'scripts-available', 'backup-steady'), script(3), { mode: 0o755 });
    appendFileSync(conf(), 'stall_timeout: 1s\nslow:\n  timeout: 2s\n');
    const slow = await box.batt(['slow', '--json']);
    assert.equal(slow.exitCode, 1, slow.stderr);
    assert.match(json(slow).items[0].error, /stopped after 2s, its timeout/);
    const steady = await box.batt(['steady', '--json']);
    assert.equal(steady.exitCode, 0, steady.stderr);
    assert.equal(json(steady).items[0].status, 'ok');
  });

  it('a timeout that is no duration stops the command before anything runs', async () => {
    const data = box.folder('data', { a: 'alpha' });
    appendFileSync(conf(), 'timeout: soon\n');
    const r = await box.batt(['--file', data]);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /timeout "soon" is not a duration.*\n.*90s, 30m, 2h or 1d/);
    assert.equal(existsSync(box.out), false, 'nothing was dumped');
  });
});
