/**
 * The doctor's checks of the places batt writes to: a destination (or a local storage) must be
 * out of other users' reach (home/trust.ts, the rule a backup enforces) and writable, and its
 * disk must have room for at least as much as the last backups that went there took.
 */
import { accessSync, constants, existsSync, statfsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BattError, fromSystemError } from '../errors/errors.js';
import { humanBytes } from '../text/names.js';
import { untrusted, userName } from '../home/trust.js';

/** `path`, or the nearest folder above it that exists (where batt would make it). */
export function nearestExisting(path: string): string {
  let existing = resolve(path);
  while (!existsSync(existing) && existing !== dirname(existing)) existing = dirname(existing);
  return existing;
}

const us = (): string => {
  const euid = process.geteuid?.() ?? 0;
  return euid === 0 ? 'root' : `${userName(euid)} or root`;
};

/**
 * A folder batt writes backups into: trusted (owned by batt's user or root, not writable by
 * group or others, nor is any folder above it) and writable. Returns what it found.
 */
export function checkFolder(root: string): string {
  const existing = nearestExisting(root);
  const why = untrusted(existing);
  if (why) {
    throw new BattError('UNTRUSTED', `${root}: ${why}, so someone other than ${us()} could change or replace the backups`, {
      hint: `chmod go-w ${existing} (and chown it to ${us()}), or choose another destination; batt refuses to write there (docs/security.md)`,
    });
  }
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw fromSystemError(error, `${existing} is not writable`);
  }
  const st = statSync(existing);
  const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
  const shown = `owned by ${userName(st.uid)}, mode ${mode}, writable`;
  return existing === resolve(root) ? `${root}: ${shown}` : `${root} does not exist yet (batt makes it, 0700); ${existing} is ${shown}`;
}

/** Free space where `root` is (or will be), against `needed` bytes: the size of the last backups that went there. */
export function checkFreeSpace(root: string, needed: number | undefined): string {
  const existing = nearestExisting(root);
  const fs = statfsSync(existing);
  const free = fs.bavail * fs.bsize;
  if (needed === undefined) return `${humanBytes(free)} free under ${root}; no backup yet to compare with`;
  if (free < needed) {
    throw new BattError('IO', `only ${humanBytes(free)} free under ${root}, and the last backups that went there took ${humanBytes(needed)}`, {
      hint: 'free some space (`batt prune` removes old backups; docs/retention.md), or point destination at a bigger disk',
    });
  }
  return `${humanBytes(free)} free under ${root}; the last backups that went there took ${humanBytes(needed)}`;
}
