import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import { ExitCode } from '@batt/core/errors/errors';
import { which } from '@batt/core/exec/exec';
import { battBin, holdingRun, until, json, sandbox, sandboxFor, type Sandbox } from '../lib/batt.js';

/** What cron does to its command field before /bin/sh reads it: `\%` → `%`, `\\` → `\`. */
const cronUnescape = (command: string): string => command.replace(/\\([%\\])/g, '$1');

describe('batt schedule --print', () => {
  const box = sandboxFor('all');
  let config: string;
  before(() => {
    // A config path with a space and a %: each file's quoting must keep it one argument that means itself.
    const dir = join(box.dir, 'my conf 100%');
    mkdirSync(dir, { mode: 0o700 });
    config = join(dir, 'batt.yaml');
    writeFileSync(config, `destination: ${JSON.stringify(join(box.out, '%Y/{service}'))}\nschedule: "Mon..Fri *-*-* 02:30"\n`, { mode: 0o600 });
  });

  it('prints a service and timer pair that systemd-analyze verify accepts, from schedule: and this batt, home and config', async (t) => {
    const r = await box.batt(['schedule', '--print', '--systemd', '--config', config, '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    const { service, timer, cron, calendar } = json(r);
    assert.equal(cron, undefined, '--systemd: the units only');
    assert.equal(calendar, 'Mon..Fri *-*-* 02:30');
    const exec = /^ExecStart=(.*)$/m.exec(service)?.[1];
    assert.equal(exec, `${process.execPath} ${battBin} --home ${box.home} --config "${config.replace('%', '%%')}"`);
    assert.match(service, /^Type=oneshot$/m);
    assert.match(timer, /^OnCalendar=Mon\.\.Fri \*-\*-\* 02:30$/m);
    assert.match(timer, /^Persistent=true$/m);
    assert.match(timer, /^RandomizedDelaySec=\S+$/m);
    assert.match(timer, /^WantedBy=timers\.target$/m);
    const units = join(box.dir, 'units');
    mkdirSync(units);
    writeFileSync(join(units, 'batt.service'), service);
    writeFileSync(join(units, 'batt.timer'), timer);
    if (!which('systemd-analyze')) return t.skip('no systemd-analyze here: the units were parsed only');
    const verify = await execa('systemd-analyze', ['verify', join(units, 'batt.service'), join(units, 'batt.timer')], { reject: false });
    assert.equal(verify.exitCode, 0, verify.stderr);
    assert.equal(verify.stderr.trim(), '', 'not one complaint');
  });

  it('prints a cron line whose command, as cron and /bin/sh read it, runs this batt with this home and config', async () => {
    const r = await box.batt(['schedule', '--print', '--cron', '--config', config]);
    assert.equal(r.exitCode, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0], /^# \/etc\/cron\.d\/batt: /);
    const m = /^30 2 \* \* 1-5 root (.*) -q$/.exec(lines[1]);
    assert.ok(m, lines[1]);
    // The same command, asked for a doctor of nothing instead of a backup: it reads the config it names.
    const run = await execa('/bin/sh', ['-c', `${cronUnescape(m[1])} doctor --json`], { reject: false, env: box.env() });
    const configuration = (JSON.parse(run.stdout) as { check: string; detail: string }[]).find((l) => l.check === 'configuration');
    assert.equal(configuration?.detail, `valid: ${config} and the environment`);
  });

  it('prints both by default; without --print, or with --systemd and --cron, it is a usage error', async () => {
    const both = await box.batt(['schedule', '--print']);
    assert.equal(both.exitCode, 0, both.stderr);
    assert.match(both.stdout, /^# \/etc\/systemd\/system\/batt\.service: /m);
    assert.match(both.stdout, /^# \/etc\/systemd\/system\/batt\.timer: /m);
    assert.match(both.stdout, /^OnCalendar=\*-\*-\* 03:00:00$/m, 'daily at 03:00 without schedule:');
    assert.match(both.stdout, /^0 3 \* \* \* root /m);
    const bare = await box.batt(['schedule']);
    assert.equal(bare.exitCode, ExitCode.usage);
    assert.match(bare.stderr, /add --print/);
    assert.equal((await box.batt(['schedule', '--print', '--systemd', '--cron'])).exitCode, ExitCode.usage);
    const help = await box.batt(['schedule', '--help']);
    assert.match(help.stdout, /Persistent=true/);
  });
});

describe('overlapping runs: skip with exit 75, or wait up to lock_wait', () => {
  let box: Sandbox;
  let data: string;
  let holder: ResultPromise | undefined;
  before(() => {
    box = sandbox();
    data = box.folder('data', { a: 'alpha' });
  });
  after(() => {
    holder?.kill('SIGKILL');
    box.cleanup();
  });

  it('the second run exits 75 at once with a message that names the other run and lock_wait; with lock_wait it waits and then succeeds', async () => {
    // A drop-in holds the first run (and its lock) until the test releases it.
    const first = await holdingRun(box);
    holder = first.run;

    const skipped = await box.batt(['--file', data]);
    assert.equal(skipped.exitCode, ExitCode.locked);
    assert.match(skipped.stderr, /another batt run \(pid \d+\) is using /);
    assert.match(skipped.stderr, /lock_wait/);

    const expired = await box.batt(['--file', data], { env: { BATT_LOCK_WAIT: '1' } });
    assert.equal(expired.exitCode, ExitCode.locked);
    assert.match(expired.stderr, /still after waiting 1s \(lock_wait\)/);

    const waiting = execa(process.execPath, [battBin, '--home', box.home, '--file', data, '--json'], { reject: false, extendEnv: false, env: box.env({ BATT_LOCK_WAIT: '60' }) });
    let stderr = '';
    waiting.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await until('the second run says it waits', () => /waiting up to 60s for it \(lock_wait\)/.test(stderr));
    first.release();
    const held = await holder;
    holder = undefined;
    assert.equal(held.exitCode, 0, String(held.stderr));
    const second = await waiting;
    assert.equal(second.exitCode, 0, stderr);
    const run = json({ exitCode: second.exitCode ?? -1, stdout: String(second.stdout), stderr });
    assert.equal(run.status, 'ok');
    const runs = json<{ id: number; startedAt: string; finishedAt: string }[]>(await box.batt(['runs', '--json']));
    const [newer, older] = runs;
    assert.equal(newer.id, run.id);
    assert.ok(newer.startedAt >= older.finishedAt, 'the second run started only when the first had finished');
  });
});
