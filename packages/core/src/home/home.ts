/**
 * The batt home (BATT_HOME / --home): scripts-available/, scripts-enabled/, conf/, the catalog
 * and logs/. It is created and seeded from the shipped defaults on first use, and topped up
 * with any built-in entry it lacks, so a new built-in shows up after an upgrade.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BattError, fromSystemError } from '../errors/errors.js';
import { assertTrusted } from './trust.js';

export interface HomeLayout {
  root: string;
  available: string;
  enabled: string;
  conf: string;
  logs: string;
  catalog: string;
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** The home folder: --home, then BATT_HOME, then /opt/batt for root, else the XDG data dir. */
export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag);
  if (env.BATT_HOME) return resolve(env.BATT_HOME);
  if (isRoot()) return rootHome;
  const data = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(data, 'batt');
}

/** The home root gets by default: /opt/batt, as in the original batt. */
export const rootHome = '/opt/batt';

/**
 * The default destination pattern: the original's /opt/backup for root's default home, and under
 * the home for any other, so a second home (a test, a staging copy) never writes into, scans or
 * prunes the first one's backups unless its configuration says so.
 */
export function defaultDestination(home: string): string {
  return isRoot() && resolve(home) === rootHome ? '/opt/backup/%Y/%m/%d/{service}' : join(home, 'backup', '%Y/%m/%d/{service}');
}

export function layoutOf(root: string): HomeLayout {
  return {
    root,
    available: join(root, 'scripts-available'),
    enabled: join(root, 'scripts-enabled'),
    conf: join(root, 'conf'),
    logs: join(root, 'logs'),
    catalog: join(root, 'catalog.db'),
  };
}

/**
 * The shipped defaults (the repo's top-level scripts-available/ and conf/): found by walking
 * up from this module, so it works from the workspace and from an installed package.
 */
export function shippedDefaultsDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'scripts-available')) && existsSync(join(dir, 'conf'))) return dir;
    dir = dirname(dir);
  }
  return undefined;
}

/**
 * makePrivateDir for a folder batt writes backups into: the folders that already exist on the way
 * are checked first (home/trust.ts), so nothing is created under a folder someone else controls.
 */
export function makeTrustedDir(path: string, use = 'a backup folder'): void {
  let existing = resolve(path);
  while (!existsSync(existing) && existing !== dirname(existing)) existing = dirname(existing);
  assertTrusted(existing, use);
  makePrivateDir(path);
  if (existing !== resolve(path)) assertTrusted(path, use);
}

/** mkdir -p with 0700 for every folder it creates, whatever the umask. */
export function makePrivateDir(path: string): void {
  const first = mkdirSync(path, { recursive: true, mode: 0o700 });
  if (first === undefined) return;
  for (let dir = path; ; dir = dirname(dir)) {
    chmodSync(dir, 0o700);
    if (dir === first || dir === dirname(dir)) break;
  }
}

function copyMissing(fromDir: string, toDir: string): void {
  if (!existsSync(fromDir)) return;
  for (const name of readdirSync(fromDir)) {
    const src = join(fromDir, name);
    const dst = join(toDir, name);
    if (existsSync(dst) || !statSync(src).isFile()) continue;
    copyFileSync(src, dst);
    chmodSync(dst, statSync(src).mode & 0o111 ? 0o700 : 0o600);
  }
}

/**
 * A fresh private folder under the home's tmp/ for credential files and the like: batt removes
 * tmp/ at the start of each run (under the lock), so even a SIGKILLed run leaves no password
 * file behind for long. Falls back to the system temp folder when there is no home.
 */
export function privateScratch(home: string, prefix: string): string {
  const base = home ? join(home, 'tmp') : tmpdir();
  if (home) makePrivateDir(base);
  const dir = mkdtempSync(join(base, prefix));
  chmodSync(dir, 0o700);
  return dir;
}

/** A 0600 file (a password, an option file) in a fresh private folder; `dispose()` removes both. */
export function privateFile(home: string, prefix: string, name: string, content: string): { path: string; dispose(): void } {
  const dir = privateScratch(home, prefix);
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return { path, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Removes what earlier runs left in the home's tmp/ (call while holding the lock). */
export function clearScratch(home: string): void {
  rmSync(join(home, 'tmp'), { recursive: true, force: true });
}

/** Creates the home if needed and copies in any shipped script or config it lacks. */
export function ensureHome(root: string): HomeLayout {
  const home = layoutOf(root);
  try {
    // Its scripts run and its configuration is read as batt's user: nobody else may change them.
    makeTrustedDir(home.root, 'the batt home');
    for (const dir of [home.available, home.enabled, home.conf, home.logs]) makePrivateDir(dir);
    const shipped = shippedDefaultsDir();
    if (shipped) {
      copyMissing(join(shipped, 'scripts-available'), home.available);
      copyMissing(join(shipped, 'conf'), home.conf);
    }
  } catch (error) {
    // --home or BATT_HOME names a file, or a path through one: a usage error, not a failed write.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') {
      throw new BattError('CONFIG', `the batt home ${root} is not a folder (${code === 'EEXIST' ? 'a file is in its place' : 'part of its path is a file'})`, {
        hint: 'point --home or BATT_HOME at a folder; batt makes it when it is missing',
      });
    }
    throw fromSystemError(error, `cannot set up the batt home ${root}`);
  }
  return home;
}
