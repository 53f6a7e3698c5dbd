/**
 * Whom batt trusts: itself (its effective user) and root. batt runs as root from cron, so a file
 * it reads as configuration or runs as a script, and a folder it writes backups into, must be
 * out of reach of every other user: owned by batt's user or root and not writable by group or
 * others, and so must every folder on the way to it (a folder writable by others is allowed on
 * the way only with the sticky bit, as /tmp has, where nobody may rename what is not theirs).
 * A symbolic link on the way counts only when batt's user or root made it, in a folder they own.
 * This is ssh's StrictModes, and git's safe.directory, for a backup tool.
 */
import { lstatSync, readFileSync, realpathSync, type Stats } from 'node:fs';
import { resolve, sep } from 'node:path';
import { BattError } from '../errors/errors.js';

const euid = (): number => process.geteuid?.() ?? 0;
const trustedOwner = (uid: number): boolean => uid === 0 || uid === euid();

/** The user name for `uid` from /etc/passwd, else the number. */
export function userName(uid: number): string {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.split(':')[2] === String(uid));
    if (line) return `${line.split(':')[0]} (uid ${uid})`;
  } catch {
    // no passwd file: the number alone
  }
  return `uid ${uid}`;
}

const modeOf = (st: Stats): string => (st.mode & 0o7777).toString(8).padStart(4, '0');

/** Every path from / down to `path`: /, /a, /a/b. */
function chain(path: string): string[] {
  const parts = resolve(path).split(sep).filter(Boolean);
  return ['/', ...parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`)];
}

/** Why `path` cannot be trusted, or undefined when it can (a path that cannot be looked at is not trusted). */
export function untrusted(path: string): string | undefined {
  try {
    return untrustedChain(path);
  } catch (error) {
    return `it cannot be checked (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
}

function untrustedChain(path: string): string | undefined {
  const steps = chain(path);
  for (const [i, step] of steps.entries()) {
    const last = i === steps.length - 1;
    const st = lstatSync(step);
    if (!trustedOwner(st.uid)) return `${step} is owned by ${userName(st.uid)}`;
    if (st.isSymbolicLink()) continue; // made by a trusted user in a trusted folder: its target is checked below
    const writable = (st.mode & 0o022) !== 0;
    const sticky = (st.mode & 0o1000) !== 0;
    if (writable && (last || !st.isDirectory() || !sticky)) return `${step} is writable by ${st.mode & 0o002 ? 'others' : 'its group'} (mode ${modeOf(st)})`;
  }
  // Links on the way were made by trusted users; where they lead must be trusted too.
  const real = realpathSync(path);
  return real === resolve(path) ? undefined : untrustedChain(real);
}

/**
 * Throws a usage error (exit 2) when `path` cannot be trusted for `use` ("configuration", "a
 * script batt runs", "the batt home", "a backup folder"), naming why and the fix.
 */
export function assertTrusted(path: string, use: string): void {
  const why = untrusted(path);
  if (!why) return;
  const us = euid() === 0 ? 'root' : `${userName(euid())} or root`;
  const does = use === 'a backup folder' ? 'writes' : 'runs';
  throw new BattError('UNTRUSTED', `refusing ${path} as ${use}: ${why}, so someone other than ${us} could change what batt ${does}`, {
    hint: `make it and every folder above it owned by ${us} and not writable by group or others (chown, chmod go-w), or use another ${use === 'a backup folder' ? 'destination' : use === 'the batt home' ? 'home' : 'file'} (docs/security.md)`,
  });
}
