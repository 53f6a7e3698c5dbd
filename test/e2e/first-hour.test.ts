/**
 * What a new user meets in a first hour (docs/usage.md): where backups go by default, a plain `batt`
 * with one misconfigured service, suspect backups and their exit code, accept, prune's log and
 * its word about drilled backups, refused restores, `batt runs` while a run goes on, the words
 * verify uses, yargs' errors in batt's voice, one meaning per short option, and -q.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, before, beforeEach, describe, it } from 'node:test';
import { execa } from 'execa';
import { battBin, fixtureSandbox, json, logLines, type Sandbox, sandbox, sandboxFor, testEnv } from '../lib/batt.js';

const sql = async (box: Sandbox, statement: string): Promise<string> => (await execa('sqlite3', [join(box.home, 'catalog.db'), statement])).stdout.trim();
const noStack = (text: string): void => assert.doesNotMatch(text, /\n\s+at .+\(.+:\d+:\d+\)/);

describe('where a home keeps its backups', () => {
  let box: Sandbox;
  beforeEach(() => {
    box = sandbox();
    // No destination configured: the defaults apply.
    writeFileSync(join(box.home, 'conf', 'batt.config.yaml'), '# nothing\n');
  });
  afterEach(() => box.cleanup());

  it('a home other than the default keeps its backups under itself, and looks nowhere else', async () => {
    const data = box.folder('data', { a: 'a' });
    const r = json(await box.batt(['--file', data, '--json']));
    assert.equal(r.status, 'ok');
    assert.ok(r.items[0].file.startsWith(join(box.home, 'backup') + '/'), r.items[0].file);
    const shown = await box.batt(['show', 'latest']);
    assert.match(shown.stdout, new RegExp(`path\\s+${join(box.home, 'backup')}/%Y/%m/%d/\\{service\\}$`, 'm'));
    const check = json(await box.batt(['catalog', 'check', '--json']));
    assert.deepEqual(check.roots, [join(box.home, 'backup')]);
    assert.deepEqual(check.problems, []);
    const prune = json(await box.batt(['prune', '--keep-last', '1', '--dry-run', '--json']));
    assert.equal(prune.remove, 0);
  });

  it('with a destination in its config, only that and what it wrote to are scanned', async () => {
    // A first backup under the home's default, before any destination is configured.
    assert.equal((await box.batt(['--file', box.folder('data', { a: 'a' })])).exitCode, 0);
    const elsewhere = join(box.dir, 'elsewhere');
    writeFileSync(join(box.home, 'conf', 'batt.config.yaml'), `destination: ${elsewhere}/%Y/{service}\n`);
    const check = json(await box.batt(['catalog', 'check', '--json']));
    // The configured destination does not exist yet, so it is no root to look in: only the
    // folder the catalog wrote to is scanned.
    assert.deepEqual(check.roots, [join(box.home, 'backup')], 'elsewhere does not exist yet: only what the catalog wrote to');
    const data = box.folder('data2', { b: 'b' });
    assert.equal((await box.batt(['--file', data])).exitCode, 0);
    const again = json(await box.batt(['catalog', 'check', '--json']));
    assert.deepEqual([...again.roots].sort(), [elsewhere, join(box.home, 'backup')].sort());
  });
});

describe('a plain batt with one misconfigured service', () => {
  const box = sandboxFor('all');
  before(async () => {
    assert.equal((await box.batt(['list'])).exitCode, 0, 'the home is set up');
    writeFileSync(join(box.home, 'scripts-available', 'backup-hello'), '#!/bin/sh\nmkdir -p "$BATT_DEST/hello"\necho hi > "$BATT_DEST/hello/hello.txt"\n', { mode: 0o755 });
    assert.equal((await box.batt(['enable', 'file', 'hello'])).exitCode, 0);
  });

  it('backs up the others, fails that service with the fix, and exits 1', async () => {
    const r = await box.batt(['--json']);
    assert.equal(r.exitCode, 1, r.stderr);
    const report = json(r);
    assert.equal(report.status, 'partial');
    const file = report.items.find((i: any) => i.service === 'file');
    assert.equal(file.status, 'failed');
    assert.match(file.error, /no paths to back up.*file\.paths/);
    const hello = report.items.find((i: any) => i.service === 'hello');
    assert.equal(hello.status, 'ok');
    assert.equal(readFileSync(hello.file, 'utf8'), 'hi\n');
    assert.equal(await sql(box, `select status from runs where id = ${report.id}`), 'partial');
  });

  it('a service named on the command line with nothing to do is still a usage error', async () => {
    const before = (await box.batt(['runs', '--json'])).stdout;
    const r = await box.batt(['file']);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /no paths to back up/);
    assert.equal((await box.batt(['runs', '--json'])).stdout, before, 'no run recorded');
  });
});

describe('suspect backups, accept and prune', () => {
  let data: string;
  // Three good backups of a folder that has just shrunk: each test starts from here.
  const box = fixtureSandbox(async () => {
    data = box.folder('shrinks', {});
    writeFileSync(join(data, 'big'), randomBytes(200 * 1024));
    for (let i = 0; i < 3; i++) assert.equal((await box.batt(['--file', data, '-q'])).exitCode, 0);
    writeFileSync(join(data, 'big'), 'tiny');
  });

  it('a suspect backup exits 3, says so even with -q, and runs and the summary use one word', async () => {
    const quiet = await box.batt(['--file', data, '-q']);
    assert.equal(quiet.exitCode, 3);
    assert.equal(quiet.stdout, '', '-q prints no table');
    assert.match(quiet.stderr, /run \d+ is suspect: file .*shrinks: size/);
    const loud = await box.batt(['--file', data]);
    assert.equal(loud.exitCode, 3);
    assert.match(loud.stdout, /^run \d+: suspect \(1\/1 items ok, 1 suspect\)$/m);
    const runs = await box.batt(['runs', '--last', '1']);
    assert.match(runs.stdout, /\ssuspect\s/);
    const ok = await box.batt(['--file', data, '--suspect-ok']);
    assert.equal(ok.exitCode, 0, ok.stderr);
    assert.match(ok.stderr, /is suspect/);
  });

  it('accept refuses a backup whose latest verify failed, and says why', async () => {
    const suspect = json(await box.batt(['--file', data, '--json']));
    assert.match(suspect.items[0].suspect ?? '', /^size /, 'the new backup is suspect');
    const suspectRun = suspect.id;
    const file = await sql(box, `select file from items where run_id = ${suspectRun}`);
    const original = readFileSync(file);
    writeFileSync(file, Buffer.concat([original.subarray(0, -1), Buffer.from([original.at(-1)! ^ 1])]));
    assert.equal((await box.batt(['verify', String(suspectRun)])).exitCode, 1);
    const r = await box.batt(['accept', String(suspectRun)]);
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /cannot be accepted: file .*: its latest verify failed/);
    noStack(r.stderr);
    assert.notEqual(await sql(box, `select suspect from items where run_id = ${suspectRun}`), '', 'still suspect');
    writeFileSync(file, original);
    assert.equal((await box.batt(['verify', String(suspectRun)])).exitCode, 0);
    const again = await box.batt(['accept', String(suspectRun)]);
    assert.equal(again.exitCode, 0, again.stderr);
  });

  it('prune warns when it would remove the only drilled backup, and logs what it removed', async () => {
    const first = Number(await sql(box, 'select min(id) from runs'));
    const drill = await box.batt(['verify', String(first), '--restore-test']);
    assert.equal(drill.exitCode, 0, drill.stdout + drill.stderr);
    const dry = await box.batt(['prune', '--keep-last', '1', '--dry-run']);
    assert.equal(dry.exitCode, 0, dry.stderr);
    assert.match(dry.stderr, new RegExp(`removes every backup that passed a restore drill \\(run ${first}\\).*require_verified`));
    const file = await sql(box, `select file from items where run_id = ${first}`);
    const real = await box.batt(['prune', '--keep-last', '1']);
    assert.equal(real.exitCode, 0, real.stderr);
    assert.ok(!existsSync(file));
    const logs = logLines(box).join('\n');
    assert.match(logs, new RegExp(`\\[prune\\] removed file \\S+ of run ${first}: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(logs, /\[prune\] removed \d+ backups/);
  });
});

describe('restore: refusals, hints and -q', () => {
  let data: string;
  const box = fixtureSandbox(async () => {
    data = box.folder('data', { a: 'alpha', b: 'beta' });
    assert.equal((await box.batt(['--file', data])).exitCode, 0);
  });

  it('a restore refused because the target exists is recorded as nothing, and its hint names working flags', async () => {
    // A file of the backup already stands where the restore would put it.
    const to = join(box.dir, 'restored');
    box.folder(join('restored', data.slice(1)), { a: 'already here' });
    const r = await box.batt(['restore', 'latest', 'file', '--to', to]);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /already exist/);
    assert.match(r.stderr, /hint: file: restore into another folder with --to DIR, or pass --force/);
    assert.doesNotMatch(r.stderr, /--replace/);
    assert.equal(await sql(box, 'select count(*) from checks'), '0');
    const shown = await box.batt(['show', 'latest']);
    assert.doesNotMatch(shown.stdout, /restore\s+failed/);
  });

  it('-q prints nothing but errors', async () => {
    const to = join(box.dir, 'quiet');
    const r = await box.batt(['restore', 'latest', 'file', '--to', to, '-q']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, '');
    assert.equal(readFileSync(join(to, data.slice(1), 'a'), 'utf8'), 'alpha');
    const v = await box.batt(['verify', '-q']);
    assert.equal(v.exitCode, 0);
    assert.equal(v.stdout + v.stderr, '');
    const file = await sql(box, 'select file from items order by id desc limit 1');
    writeFileSync(file, 'damaged');
    const bad = await box.batt(['verify', '-q']);
    assert.equal(bad.exitCode, 1);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /verify FAILED/);
  });

  it('verify counts backups and checks, each by its name', async () => {
    const data2 = box.folder('data2', { c: 'c' });
    assert.equal((await box.batt(['--file', data2])).exitCode, 0);
    const v = await box.batt(['verify', 'latest', '--restore-test']);
    assert.equal(v.exitCode, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /^verify: 1 of 1 backup passed \(\d+ checks\)$/m);
    assert.match(v.stdout, /^restore drill: 1 of 1 backup passed \(\d+ checks?\)$/m);
    assert.doesNotMatch(v.stdout, /checks passed/);
  });
});

describe('batt runs while a run goes on', () => {
  const box = sandboxFor('all');

  it('shows the run and its items as running, not as failed', async () => {
    const data = box.folder('data', { a: 'a' });
    assert.equal((await box.batt(['--file', data])).exitCode, 0);
    const now = new Date().toISOString();
    await sql(
      box,
      `insert into runs (started_at, status, host, user, destination, services, pid) values ('${now}', 'running', 'h', 'u', '/x/{service}', 'file', ${process.pid});
      insert into items (run_id, service, target, started_at, status) values (last_insert_rowid(), 'file', '/etc', '${now}', 'running');`,
    );
    const r = await box.batt(['runs']);
    const line = r.stdout.split('\n').find((l) => /\srunning\s/.test(l));
    assert.ok(line, r.stdout);
    assert.match(line!, /\s1 running\s/);
    assert.doesNotMatch(line!, /0\/1/);
  });
});

describe("errors in batt's own voice", () => {
  const box = sandboxFor('all');

  it('an invalid choice: one line with the valid ones, and a hint', async () => {
    const r = await box.batt(['list', 'bogus']);
    assert.equal(r.exitCode, 2);
    assert.equal(r.stderr, 'batt: list: "bogus" is not one of all, available, enabled, disabled\nhint: e.g. batt list all; see `batt list --help`');
    const typo = await box.batt(['runs', '--status', 'faild']);
    assert.match(typo.stderr, /^batt: --status: "faild" is not one of .*; did you mean "failed"\?$/m);
  });

  it('an unknown option, a missing argument, an unknown config key: did you mean', async () => {
    const r = await box.batt(['prune', '--keep-dayly', '3']);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /^batt: prune: unknown option --keep-dayly; did you mean --keep-daily\?$/m);
    const missing = await box.batt(['restore']);
    assert.equal(missing.exitCode, 2);
    assert.match(missing.stderr, /^batt: restore needs <run>: a run id from `batt runs`, or latest$/m);
    assert.doesNotMatch(missing.stderr + r.stderr, /non-option|Argument:|Unknown argument/);
    const conf = join(box.dir, 'typo.yaml');
    writeFileSync(conf, 'file:\n  path: [/etc]\n');
    const c = await box.batt(['--config', conf, 'file']);
    assert.equal(c.exitCode, 2);
    assert.match(c.stderr, /unknown key "file\.path": did you mean "file\.paths"\?/);
    const top = join(box.dir, 'top.yaml');
    writeFileSync(top, 'compresion: gzip\n');
    assert.match((await box.batt(['--config', top, 'file'])).stderr, /unknown key "compresion": did you mean "compression"\?/);
  });
});

describe('options', () => {
  const box = sandboxFor('all');

  it('each short option means one thing across every command', async () => {
    const commands = ['', 'list', 'enable', 'disable', 'runs', 'show', 'catalog', 'accept', 'restore', 'prune', 'purge', 'verify', 'doctor', 'schedule'];
    const meaning = new Map<string, Set<string>>();
    for (const c of commands) {
      const r = await box.batt([...(c ? [c] : []), '--help']);
      assert.equal(r.exitCode, 0, `${c} --help`);
      for (const m of r.stdout.matchAll(/(?:^|\s)-(\w), (?:--\S+, )*--([\w-]+)/gm)) {
        meaning.set(m[1], new Set([...(meaning.get(m[1]) ?? []), m[2]]));
      }
    }
    assert.ok(meaning.has('n') && meaning.has('j') && meaning.has('q'), [...meaning.keys()].join(' '));
    for (const [letter, longs] of meaning) assert.equal(longs.size, 1, `-${letter} means ${[...longs].join(' and ')}`);
  });

  it('--help and --version on a home that is not there yet print and make nothing; the first command that works makes it', async () => {
    const fresh = join(box.dir, 'not-yet', 'home');
    const batt = (args: string[]) => execa(process.execPath, [battBin, '--home', fresh, ...args], { reject: false, env: testEnv(box.dir), extendEnv: false });
    for (const args of [['--help'], ['restore', '--help'], ['-h'], ['--version', '-q'], ['runs', '--help']]) {
      const r = await batt(args);
      assert.equal(r.exitCode, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.ok(r.stdout.length > 0, args.join(' '));
      assert.equal(existsSync(join(box.dir, 'not-yet')), false, `${args.join(' ')} made the home`);
    }
    assert.ok((await batt(['--help'])).stdout.includes(`[${fresh}]`), 'the help names the home it would use');
    assert.equal((await batt(['list'])).exitCode, 0);
    assert.equal(existsSync(join(fresh, 'scripts-available', 'backup-mysql')), true);
  });

  it('--compression-level sets the level, over the config, and is checked', async () => {
    const data = box.folder('text', { t: 'batt backs up all the things. '.repeat(20000) + randomBytes(2000).toString('hex') });
    writeFileSync(join(box.home, 'conf', 'batt.config.yaml'), `destination: ${join(box.out, '%Y/{service}')}\ncompression_level: 9\n`);
    const fast = json(await box.batt(['--file', data, '--compression', 'gzip', '--compression-level', '1', '--json']));
    const best = json(await box.batt(['--file', data, '--compression', 'gzip', '--json']));
    assert.ok(fast.items[0].file && best.items[0].file);
    const size = async (f: string): Promise<number> => Number((await execa('stat', ['-c', '%s', f])).stdout);
    assert.ok((await size(fast.items[0].file)) > (await size(best.items[0].file)), "level 1 writes a larger file than the config's level 9");
    const tooHigh = await box.batt(['--file', data, '--compression', 'gzip', '--compression-level', '12']);
    assert.equal(tooHigh.exitCode, 2);
    assert.match(tooHigh.stderr, /too high for gzip/);
    const bad = await box.batt(['--file', data, '--compression-level', '0']);
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /--compression-level must be a whole number from 1 to 19/);
    rmSync(join(box.home, 'conf', 'batt.config.yaml'));
  });
});
