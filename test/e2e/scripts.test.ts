import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { execa } from 'execa';
import { battBin, json, sandboxFor } from '../lib/batt.js';
import { startHttpReceiver } from '../lib/receivers.js';

// Written the way scripts for the original batt were: $BATT_DEST/<svc>/, own config, plain shell.
const originalStyle = `#!/bin/bash
set -e
DEST="$BATT_DEST/notes"
mkdir -p "$DEST"
CONF="\${BATT_CONF:-/nonexistent}"
[ -f "$CONF" ] && . "$CONF"
for item in "\${@:-default}"; do
  echo "backing up $item" >&2
  printf '%s from %s\\n' "$item" "\${GREETING:-nobody}" | gzip > "$DEST/$item.txt.gz"
done
`;

const python = `#!/usr/bin/env python3
import json, os, sys
dest = os.path.join(os.environ["BATT_DEST"], "pyjson")
os.makedirs(dest, exist_ok=True)
with open(os.path.join(dest, "state.json"), "w") as f:
    json.dump({"service": os.environ["BATT_SERVICE"], "run": os.environ["BATT_RUN_ID"], "args": sys.argv[1:]}, f)
print("wrote state.json", file=sys.stderr)
`;

const failing = `#!/bin/sh
mkdir -p "$BATT_DEST/broken"
echo "half a dump" > "$BATT_DEST/broken/dump.sql"
echo "mysqldump: Got error: 2002: Can't connect" >&2
exit 3
`;

// Two scripts that meet: each marks its start, then waits for the other's mark. They can only
// both finish when batt runs them at the same time; one at a time, the first gives up (after
// 20 s, a bound that only a broken batt reaches) and says so.
const meeting = (name: string, other: string, dir: string): string => `#!/bin/sh
echo "start ${name}" >> ${dir}/timeline.log
touch ${dir}/started-${name}
i=0
while [ ! -e ${dir}/started-${other} ]; do
  i=$((i + 1)); [ $i -gt 1000 ] && { echo "${other} never started while ${name} ran" >&2; exit 1; }
  sleep 0.02
done
mkdir -p "$BATT_DEST/${name}" && echo ${name} > "$BATT_DEST/${name}/out.txt"
echo "end ${name}" >> ${dir}/timeline.log
`;

// A script that notes what else runs beside it: with -j1 nothing may.
const alone = (name: string, dir: string): string => `#!/bin/sh
for f in ${dir}/running-*; do [ -e "$f" ] && echo "overlap ${name} \${f##*/running-}" >> ${dir}/timeline.log; done
echo "start ${name}" >> ${dir}/timeline.log
touch ${dir}/running-${name}
mkdir -p "$BATT_DEST/${name}" && echo ${name} > "$BATT_DEST/${name}/out.txt"
rm ${dir}/running-${name}
echo "end ${name}" >> ${dir}/timeline.log
`;

describe('drop-in scripts', () => {
  const box = sandboxFor('all');
  const available = (): string => join(box.home, 'scripts-available');
  before(async () => {
    await box.batt(['list']); // seeds the home
    writeFileSync(join(available(), 'backup-notes'), originalStyle, { mode: 0o755 });
    writeFileSync(join(available(), 'backup-pyjson'), python, { mode: 0o755 });
    writeFileSync(join(available(), 'backup-broken'), failing, { mode: 0o755 });
    writeFileSync(join(box.home, 'conf', 'notes.conf'), 'GREETING=batt-conf\n');
  });

  it('runs an original-batt bash script with its arguments and config; its files are catalogued', async () => {
    const dest = join(box.out, 'notes');
    const r = await box.batt(['--notes-db', 'wordpress', '--notes-db', 'a b', '--path', dest, '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    const report = json(r);
    assert.deepEqual(report.items.map((i: any) => i.target).sort(), ['a b.txt.gz', 'wordpress.txt.gz']);
    const file = join(dest, 'notes', 'wordpress.txt.gz');
    assert.equal((await execa('gzip', ['-dc', file])).stdout, 'wordpress from batt-conf');
    const sha = (await execa('sha256sum', [file])).stdout.split(' ')[0];
    assert.equal(report.items.find((i: any) => i.file === file).sha256, sha);
    assert.equal((await execa('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(dest, 'notes') })).exitCode, 0);
    const shown = json(await box.batt(['show', String(report.id), '--json']));
    assert.match(shown.items[0].log, /backing up/);
    assert.deepEqual(
      readdirSync(join(dest, 'notes')).filter((n) => n.startsWith('.')),
      [],
      'staging removed',
    );
  });

  it('runs a Python script and passes BATT_SERVICE and BATT_RUN_ID', async () => {
    const r = await box.batt(['pyjson', '--path', join(box.out, 'py'), '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    const report = json(r);
    const state = JSON.parse(readFileSync(join(box.out, 'py', 'pyjson', 'state.json'), 'utf8'));
    assert.deepEqual(state, { service: 'pyjson', run: String(report.id), args: [] });
  });

  it('a failing script leaves no artifact, fails its item and keeps its stderr', async () => {
    const dest = join(box.out, 'broken');
    const r = await box.batt(['broken', 'pyjson', '--path', dest, '--json']);
    assert.equal(r.exitCode, 1);
    const report = json(r);
    assert.equal(report.status, 'partial');
    const failed = report.items.find((i: any) => i.service === 'broken');
    assert.equal(failed.status, 'failed');
    assert.match(failed.error, /exited with code 3/);
    assert.ok(!existsSync(join(dest, 'broken', 'dump.sql')), 'no half dump in place');
    assert.ok(!existsSync(join(dest, 'broken')), 'not even an empty folder is left');
    const shown = json(await box.batt(['show', String(report.id), '--json']));
    assert.match(shown.items.find((i: any) => i.service === 'broken').log, /Can't connect/);
    const runs = json(await box.batt(['runs', '--status', 'partial', '--json']));
    assert.ok(runs.some((x: any) => x.id === report.id));
  });

  it('keeps a dotted file name whole and its target stable across runs', async () => {
    writeFileSync(join(available(), 'backup-dotted'), '#!/bin/sh\nmkdir -p "$BATT_DEST/dotted"\necho x > "$BATT_DEST/dotted/10.0.0.1_app.sql.gz"\n', { mode: 0o755 });
    const dest = join(box.out, 'dotted');
    const first = json(await box.batt(['dotted', '--path', dest, '--json']));
    const second = json(await box.batt(['dotted', '--path', dest, '--json']));
    assert.equal(first.items[0].file, join(dest, 'dotted', '10.0.0.1_app.sql.gz'));
    assert.equal(second.items[0].file, join(dest, 'dotted', `10.0.0.1_app-run${second.id}.sql.gz`));
    assert.equal(second.items[0].target, '10.0.0.1_app.sql.gz');
  });

  it("masks secrets from the environment in what it keeps of a script's output, its notifications and the metrics file", async () => {
    writeFileSync(join(available(), 'backup-leaky'), '#!/bin/sh\necho "connecting with $BATT_LEAKY_PASSWORD" >&2\nexit 1\n', { mode: 0o755 });
    const hook = await startHttpReceiver();
    const metrics = join(box.dir, 'leaky.prom');
    try {
      const r = await box.batt(['leaky', '--path', join(box.out, 'leaky'), '--json'], {
        env: { BATT_LEAKY_PASSWORD: 's3cr3t-pw', BATT_NOTIFY_WEBHOOK_URL: `${hook.url}/hook`, BATT_METRICS_FILE: metrics },
      });
      assert.equal(r.exitCode, 1);
      const shown = await box.batt(['show', String(json(r).id), '--json']);
      assert.match(shown.stdout, /connecting with \*{8}/);
      assert.doesNotMatch(shown.stdout + r.stdout + r.stderr, /s3cr3t-pw/);
      const logs = readdirSync(join(box.home, 'logs'))
        .map((n) => readFileSync(join(box.home, 'logs', n), 'utf8'))
        .join('');
      assert.doesNotMatch(logs, /s3cr3t-pw/);
      assert.equal(hook.requests.length, 1, 'the failure was told');
      assert.match(hook.requests[0].body, /connecting with \*{8}/);
      assert.doesNotMatch(JSON.stringify(hook.requests), /s3cr3t-pw/);
      assert.match(readFileSync(metrics, 'utf8'), /^batt_last_backup_success\{service="leaky",target="\*"\} 0$/m);
      assert.doesNotMatch(readFileSync(metrics, 'utf8'), /s3cr3t-pw/);
    } finally {
      await hook.close();
    }
  });

  it('runs services in parallel with -j2', async () => {
    const dir = mkdtempSync(join(box.dir, 'meet-'));
    writeFileSync(join(available(), 'backup-meeta'), meeting('meeta', 'meetb', dir), { mode: 0o755 });
    writeFileSync(join(available(), 'backup-meetb'), meeting('meetb', 'meeta', dir), { mode: 0o755 });
    const r = await box.batt(['meeta', 'meetb', '-j', '2', '--path', join(box.out, 'j2'), '--json']);
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    assert.deepEqual(
      json(r).items.map((i: any) => i.status),
      ['ok', 'ok'],
    );
    const timeline = readFileSync(join(dir, 'timeline.log'), 'utf8').trim().split('\n');
    assert.deepEqual(
      timeline.slice(0, 2).map((l) => l.split(' ')[0]),
      ['start', 'start'],
      timeline.join('; '),
    );
  });

  it('runs services one at a time with -j1: each ends before the next starts', async () => {
    const dir = mkdtempSync(join(box.dir, 'alone-'));
    for (const name of ['solea', 'soleb', 'solec']) writeFileSync(join(available(), `backup-${name}`), alone(name, dir), { mode: 0o755 });
    const r = await box.batt(['solea', 'soleb', 'solec', '-j', '1', '--path', join(box.out, 'j1'), '--json']);
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    const timeline = readFileSync(join(dir, 'timeline.log'), 'utf8').trim().split('\n');
    assert.equal(timeline.length, 6, timeline.join('; '));
    assert.deepEqual(
      timeline.filter((l) => l.startsWith('overlap')),
      [],
    );
    for (let i = 0; i < 6; i += 2) {
      const name = timeline[i].split(' ')[1];
      assert.deepEqual([timeline[i], timeline[i + 1]], [`start ${name}`, `end ${name}`], timeline.join('; '));
    }
  });

  it('backs up every enabled service when run without arguments', async () => {
    assert.equal((await box.batt(['enable', 'pyjson', 'notes'])).exitCode, 0);
    const r = await box.batt(['--path', join(box.out, 'all'), '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual([...new Set(json(r).items.map((i: any) => i.service))].sort(), ['notes', 'pyjson']);
  });

  it('a batt killed mid-run leaves no finished-looking file; the next run marks it aborted', async () => {
    const marker = join(box.dir, 'started');
    writeFileSync(join(available(), 'backup-hang'), `#!/bin/sh\nmkdir -p "$BATT_DEST/hang"\necho partial > "$BATT_DEST/hang/x.sql"\ntouch ${marker}\nexec sleep 60\n`, {
      mode: 0o755,
    });
    const dest = join(box.out, 'killed');
    const run = execa(process.execPath, [battBin, '--home', box.home, 'hang', '--path', dest], { reject: false, detached: true, extendEnv: false, env: box.env() });
    for (let i = 0; i < 100 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(existsSync(marker), 'script started');
    process.kill(-run.pid!, 'SIGKILL'); // batt and its script, as a power cut would
    await run;
    assert.ok(!existsSync(join(dest, 'hang', 'x.sql')));
    const next = await box.batt(['pyjson', '--path', join(box.out, 'after'), '--json']);
    assert.equal(next.exitCode, 0, next.stderr);
    const runs = json<any[]>(await box.batt(['runs', '--json', '--last', '2']));
    assert.equal(runs[1].status, 'aborted');
  });
});
