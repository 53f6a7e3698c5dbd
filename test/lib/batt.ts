/**
 * Test helpers: run the built `batt` binary in a private temporary home, and make folders.
 * Every test gets its own home and destination, so tests can run in parallel.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { which } from '@batt/core/exec/exec';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { execa, type Options, type ResultPromise } from 'execa';
import { after, afterEach, before, beforeEach } from 'node:test';

export const repoRoot = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..', '..');
export const battBin = join(repoRoot, 'packages', 'batt', 'bin', 'batt.js');

/**
 * The environment every batt a test starts gets, and nothing of the caller's: no BATT_*, PG*,
 * MYSQL_*, REDIS*, AWS_* or locale leaks in, HOME is the test's own folder (so no ~/.my.cnf or
 * ~/.pgpass is read), time zone, locale and colour are pinned, and Node's compile cache is the
 * test's own. `extra` is laid on top.
 */
export function testEnv(dir: string, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
    HOME: dir,
    TMPDIR: process.env.TMPDIR,
    LANG: 'C.UTF-8',
    TZ: 'UTC',
    // Node 22.8+ keeps batt's compiled code here (bin/batt.js turns the cache on), not in /tmp.
    NODE_COMPILE_CACHE: join(dir, '.node-compile-cache'),
    NO_COLOR: '1',
    FORCE_COLOR: '0',
    ...extra,
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

export interface Sandbox {
  dir: string;
  home: string;
  /** The explicit destination root the sandbox's home is configured with (conf/batt.config.yaml). */
  out: string;
  /** The environment its batt runs get (see testEnv), for tests that spawn batt themselves. */
  env(extra?: Record<string, string | undefined>): Record<string, string>;
  batt(args: readonly string[], options?: Options): Promise<BattResult>;
  /** Makes `dir/name` holding the given files (name → content) and returns its path. */
  folder(name: string, files: Record<string, string>): string;
  /**
   * Keeps a copy of the whole sandbox as it is now (home, catalog, backups, data) and returns a
   * function that puts it back exactly: tests that share a costly fixture each start from it,
   * whatever an earlier test changed.
   */
  checkpoint(): () => void;
  cleanup(): void;
}

export interface BattResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A sandbox with a `data` folder holding `files`: what most tests back up. */
export function withData(files: Record<string, string>): { box: Sandbox; data: string } {
  const box = sandbox();
  return { box, data: box.folder('data', files) };
}

/** True when no process holds the home's lock (batt's own kernel lock on batt.lock, docs/guarantees.md). */
export async function lockFree(home: string): Promise<boolean> {
  const { acquireLock } = await import('@batt/core');
  try {
    acquireLock(home).release();
    return true;
  } catch {
    return false;
  }
}

/** withData for the tests of the describe block that calls this: made now, removed after them. */
export function dataFor(files: Record<string, string>): { box: Sandbox; data: string } {
  const made = withData(files);
  after(() => made.box.cleanup());
  return made;
}

/**
 * An object that stands for what `current()` returns at the time each property is read: for
 * parts made by a describe block's hooks and used by its tests. Read before they are made, it
 * throws, naming `what`.
 */
export function standIn<T extends object>(what: string, current: () => T | undefined): T {
  return new Proxy({} as T, {
    get(_, key) {
      const part = current();
      if (!part) throw new Error(`${what} is made when the tests start: use it in a hook or a test`);
      const value = Reflect.get(part, key) as unknown;
      return typeof value === 'function' ? value.bind(part) : value;
    },
  });
}

/**
 * The sandbox of the tests in the describe block that calls this: a new one for each test
 * (`each`), or one they all share (`all`), made before them and removed after. What it returns
 * stands for that sandbox, so hooks and tests use it as they would the sandbox itself.
 */
export function sandboxFor(tests: 'each' | 'all', defaults: { env?: Record<string, string> } = {}): Sandbox {
  let box: Sandbox | undefined;
  (tests === 'each' ? beforeEach : before)(() => {
    box = sandbox(defaults);
  });
  (tests === 'each' ? afterEach : after)(() => box?.cleanup());
  return standIn('the sandbox', () => box);
}

/**
 * A sandbox shared by the tests of the describe block that calls this: `setup` fills it once (the
 * costly runs), and every test starts from it as `setup` left it, whatever an earlier test changed.
 */
export function fixtureSandbox(setup: () => Promise<void>): Sandbox {
  const box = sandboxFor('all');
  let reset: () => void;
  before(async () => {
    await setup();
    reset = box.checkpoint();
  });
  beforeEach(() => reset());
  return box;
}

/** Backs up a new `data` folder holding `files` (quietly, and it must pass): the first run many tests start from. Returns the folder. */
export async function firstBackup(box: Sandbox, files: Record<string, string>): Promise<string> {
  const data = box.folder('data', files);
  assert.equal((await box.batt(['--file', data, '-q'])).exitCode, 0);
  return data;
}

/** `env`: variables every batt of this sandbox gets (a test's own `env` is laid on top). */
export function sandbox(defaults: { env?: Record<string, string> } = {}): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'batt-test-'));
  let checkpoints = 0;
  const home = join(dir, 'home');
  const out = join(dir, 'out');
  // An explicit destination inside the sandbox, whatever the machine's defaults are.
  mkdirSync(join(home, 'conf'), { recursive: true, mode: 0o700 });
  writeFileSync(join(home, 'conf', 'batt.config.yaml'), `destination: ${JSON.stringify(join(out, '%Y/%m/%d/{service}'))}\n`, { mode: 0o600 });
  return {
    dir,
    home,
    out,
    env: (extra) => testEnv(dir, { ...defaults.env, ...extra }),
    async batt(args, options = {}) {
      const result = await execa(process.execPath, [battBin, '--home', home, ...args], {
        reject: false,
        cwd: dir,
        timeout: 120_000,
        ...options,
        extendEnv: false,
        env: testEnv(dir, { ...defaults.env, ...(options.env as Record<string, string> | undefined) }),
      });
      const stderr = String(result.stderr);
      // Whatever went wrong, batt says it in words: no run of any test may print a stack trace.
      const trace = /^\s+at .*:\d+:\d+\)?$/m.exec(stderr);
      if (trace) throw new Error(`batt ${args.join(' ')} printed a stack trace:\n${stderr}`);
      return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr };
    },
    folder(name, files) {
      const path = join(dir, name);
      mkdirSync(path, { recursive: true });
      for (const [file, content] of Object.entries(files)) writeFileSync(join(path, file), content);
      return path;
    },
    checkpoint() {
      const copy = `${dir}.checkpoint-${++checkpoints}`;
      copyTree(dir, copy);
      return () => {
        rmSync(dir, { recursive: true, force: true });
        copyTree(copy, dir);
      };
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
      for (let i = 1; i <= checkpoints; i++) rmSync(`${dir}.checkpoint-${i}`, { recursive: true, force: true });
    },
  };
}

/** Copies a folder with modes, times and links as they are (cp -a). */
function copyTree(from: string, to: string): void {
  const r = spawnSync('cp', ['-a', from, to], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cp -a ${from} ${to}: ${r.stderr}`);
}

/**
 * Follows one process by its pid and start time, so that a new process given the same pid later
 * is never taken for it. `ended()` waits (up to `ms`) until it is gone or a zombie, which holds
 * nothing, and says whether it ended.
 */
export function processWatch(pid: number): { running: boolean; ended(ms?: number): Promise<boolean> } {
  const stat = (): string[] =>
    existsSync(`/proc/${pid}/stat`)
      ? readFileSync(`/proc/${pid}/stat`, 'utf8')
          .replace(/^.*\) /s, '')
          .split(' ')
      : [];
  const started = stat()[19]; // field 22 of proc(5), counted after "pid (comm) "
  const alive = (): boolean => {
    const now = stat();
    return started !== undefined && now.length > 0 && now[19] === started && now[0] !== 'Z';
  };
  return {
    running: alive(),
    async ended(ms = 5000) {
      for (let waited = 0; alive() && waited < ms; waited += 50) await new Promise((r) => setTimeout(r, 50));
      return !alive();
    },
  };
}

/**
 * A PATH whose `tar` (a stand-in in `dir`) starts an archive and never finishes it: it writes
 * `mib` MiB that do not compress, writes its pid to `marker`, and waits for ever. A backup of any
 * folder then stays mid-write until the test interrupts it: no race with how fast the machine is.
 */
export function endlessTar(dir: string, marker: string, mib = 16): string {
  const tar = realTool('tar');
  return standIns(dir, {
    tar: `#!/bin/sh\ncase " $* " in *" --version "*) exec '${tar}' "$@";; esac\nhead -c ${mib * 1024 * 1024} /dev/urandom\necho $$ > '${marker}.tmp' && mv '${marker}.tmp' '${marker}'\nexec sleep 600\n`,
  });
}

/**
 * The sandbox's log (every day's file, oldest first) as "level [scope] message" lines, without
 * their times: `logLines(box).slice(before)` is what the commands since `before = logLines(box).length` wrote.
 * Each line of the file must be one JSON object with a time, a level and a message.
 */
export function logLines(box: Sandbox): string[] {
  const dir = join(box.home, 'logs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'))
    .filter(Boolean)
    .map((line) => {
      const e = JSON.parse(line) as { time: string; level: string; scope?: string; message: string };
      if (!/^\d{4}-\d\d-\d\dT/.test(e.time) || typeof e.message !== 'string') throw new Error(`not a log entry: ${line}`);
      return `${e.level} ${e.scope ? `[${e.scope}] ` : ''}${e.message}`;
    });
}

/** Polls (bounded, 30 s) until `ready()`; the event itself, not a guess at how long it takes. */
export async function until(what: string, ready: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !ready(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(ready(), `timed out waiting for: ${what}`);
}

/**
 * Starts `batt <args>` (by default the drop-in `hold` alone) where the drop-in `backup-hold`
 * writes one file and then keeps the run, and so the home's lock, until `release()` or a kill:
 * for what a second run, or the files on disk, look like meanwhile.
 */
export async function holdingRun(box: Sandbox, args: string[] = ['hold']): Promise<{ run: ResultPromise; release(): void }> {
  const holding = join(box.dir, 'holding');
  const release = join(box.dir, 'release');
  rmSync(holding, { force: true });
  rmSync(release, { force: true });
  mkdirSync(join(box.home, 'scripts-available'), { recursive: true, mode: 0o700 });
  const script = `#!/bin/sh\nmkdir -p "$BATT_DEST/hold"\necho held > "$BATT_DEST/hold/held.txt"\ntouch '${holding}'\nwhile [ ! -e '${release}' ]; do sleep 0.05; done\n`;
  writeFileSync(join(box.home, 'scripts-available', 'backup-hold'), script, { mode: 0o755 });
  const run = execa(process.execPath, [battBin, '--home', box.home, ...args], { reject: false, extendEnv: false, env: box.env() });
  await until('the holding run holds the lock', () => existsSync(holding) || run.exitCode !== null);
  assert.ok(existsSync(holding), 'the holding run ended before it held the lock');
  return { run, release: () => writeFileSync(release, '') };
}

/** `batt catalog check` on the sandbox's home, failing the test unless it exits 0 (every recorded file present and matching, no orphans). */
export async function catalogIsWhole(box: Sandbox, why = ''): Promise<BattResult> {
  const check = await box.batt(['catalog', 'check']);
  assert.equal(check.exitCode, 0, `${why ? `${why}: ` : ''}${check.stdout}${check.stderr}`);
  return check;
}

/**
 * Parses `--json` output, failing with the whole output when it is not JSON. A backup's output is
 * JSON lines, one per event: the last, the run's report, is the one returned (`events` has them all).
 */
export function json<T = any>(result: BattResult): T {
  try {
    const lines = result.stdout.trim().split('\n');
    return JSON.parse(lines.length > 1 && lines[0].startsWith('{"type":') ? lines[lines.length - 1] : result.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${result.exitCode}):\n${result.stdout}\n${result.stderr}`);
  }
}

/** Every JSON line of a backup's `--json` output, in order. */
export function events<T = any>(result: BattResult): T[] {
  return result.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);
}

/**
 * Stand-ins for `tools` in `dir` (a folder of the test's), to put first on PATH: each records its
 * call (argv, environment, and the mode of any credential file it was handed: --defaults-file,
 * PGPASSFILE) in `dir/calls.log`, then runs the real tool. Every call a run makes is seen, and
 * only that run's, however short-lived.
 */
export async function recordCalls(dir: string, tools: readonly string[]): Promise<{ path: string; log(): string }> {
  mkdirSync(dir, { recursive: true });
  const calls = join(dir, 'calls.log');
  writeFileSync(calls, '');
  for (const tool of tools) {
    const real = (await execa('sh', ['-c', `command -v ${tool}`], { reject: false })).stdout.trim();
    if (!real) continue;
    writeFileSync(
      join(dir, tool),
      `#!/bin/sh
{
  echo "ARGV $0 $*"
  env | sed 's/^/ENV /'
  for a in "$@"; do case "$a" in --defaults-file=*) f="\${a#--defaults-file=}"; echo "MODE $(stat -c %a "$f") $f";; esac; done
  if [ -n "$PGPASSFILE" ]; then echo "MODE $(stat -c %a "$PGPASSFILE") $PGPASSFILE"; fi
} >> '${calls}'
exec '${real}' "$@"
`,
      { mode: 0o755 },
    );
  }
  return { path: `${dir}:${process.env.PATH}`, log: () => readFileSync(calls, 'utf8') };
}

/** Where `tool` really is on this machine's PATH: stand-ins call the real tool by this path. */
export function realTool(tool: string): string {
  const path = which(tool);
  if (!path) throw new Error(`${tool} is not on PATH: the test needs it`);
  return path;
}

/**
 * Stand-in tools for a test, written to `dir`: `scripts` maps a tool to its script, '' to leave
 * the tool out. Returns the PATH to use: the stand-ins first, then the machine's PATH. A tool
 * that must be missing cannot be hidden that way, so then the PATH is `dir` alone, with links to
 * wherever each tool in `needed` really is.
 */
export function standIns(dir: string, scripts: Record<string, string>, needed: readonly string[] = []): string {
  mkdirSync(dir, { recursive: true });
  for (const [tool, script] of Object.entries(scripts)) if (script) writeFileSync(join(dir, tool), script, { mode: 0o755 });
  if (!Object.values(scripts).includes('')) return `${dir}:${process.env.PATH}`;
  for (const tool of needed) if (!(tool in scripts) && !existsSync(join(dir, tool))) symlinkSync(realTool(tool), join(dir, tool));
  return dir;
}
