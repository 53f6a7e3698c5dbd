/**
 * Restoring a tar of the file service, safely. The archive is read twice: first every header is
 * checked (scan.ts) and the whole restore is refused if any entry is unsafe; then GNU tar
 * extracts it into a staging folder inside the target, the result is compared with the archive
 * (file count and each file's SHA-256), setuid/setgid bits are dropped, and only then are the
 * files moved into place (staging.ts).
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { BattError, assertChecks, privateScratch, toolFailure, type Check, type PluginExec, type RestoreOptions, type RestorePlan, type RestoreSource } from '@batt/core/kit';
import { extractArgs } from './args.js';
import { refuseUnsafe, scanArchive, type Scan } from './scan.js';
import { compareExtracted, conflictsIn, moveInto, nonEmpty, removeStaging, stagingIn } from './staging.js';
import type { FileContext } from './index.js';

/** GNU tar extracts the archive into `dir` (owners kept when root, as tar does). */
export async function extract(exec: PluginExec, source: Readable, dir: string, xattrs: boolean): Promise<void> {
  const child = await exec.spawn('tar', extractArgs(dir, { xattrs, root: process.getuid?.() === 0 }), { stdin: source, stdout: 'ignore', debianPackage: 'tar' });
  const result = await child.result;
  if (result.failed) throw toolFailure('tar', result, 'tar');
}

/** The archive's size against tar's own count at backup time. */
function archiveSize(scan: Scan, facts: Record<string, unknown>): Check {
  const expected = facts.tarBytes as number | undefined;
  if (expected === undefined) return { name: 'archive size', ok: true, detail: `${scan.bytes} bytes (no size recorded at backup)` };
  return {
    name: 'archive size',
    ok: scan.bytes === expected,
    detail: scan.bytes === expected ? `${scan.bytes} bytes, as tar wrote` : `${scan.bytes} bytes, tar wrote ${expected}: the archive is truncated`,
  };
}

export async function planRestore(_ctx: FileContext, target: string, into: string): Promise<RestorePlan> {
  const dir = resolve(into);
  // The archive holds the path as it was, without its leading /: that is where it comes back.
  const own = join(dir, target.replace(/^\/+/, ''));
  return { label: `folder ${dir}`, exists: nonEmpty(own) || (existsSync(own) && !statSync(own).isDirectory()) };
}

export async function restore(ctx: FileContext, _target: string, source: RestoreSource, options: RestoreOptions): Promise<Check[]> {
  const to = resolve(options.into);
  const scan = await scanArchive(source.open(), true);
  refuseUnsafe(scan);
  // Other runs' folders restored into the same --to are no conflict; the same files are.
  const clash = options.force ? [] : conflictsIn(scan, to);
  if (clash.length) {
    throw new BattError('USAGE', `${clash.length} of the files to restore already exist: ${clash.slice(0, 3).join(', ')}${clash.length > 3 ? ', …' : ''}`, {
      hint: 'restore into another folder with --to DIR, or pass --force to overwrite them',
    });
  }
  const staging = stagingIn(to);
  let ok = false;
  try {
    await extract(ctx.exec, source.open(), staging.dir, source.facts.xattrs === true);
    const checks = assertChecks('the extracted files do not match the archive', [archiveSize(scan, source.facts), ...(await compareExtracted(staging.dir, scan))]);
    moveInto(staging.dir, to, options.force);
    ok = true;
    return checks;
  } finally {
    removeStaging(staging, to, ok);
  }
}

export async function verify(_ctx: FileContext, _target: string, source: RestoreSource): Promise<Check[]> {
  const scan = await scanArchive(source.open(), false);
  return [
    { name: 'tar listing', ok: true, detail: `${scan.entries.size} entries` },
    { name: 'safe entries', ok: scan.problems.length === 0, detail: scan.problems.length ? scan.problems.slice(0, 5).join('; ') : 'every entry stays inside the target' },
    archiveSize(scan, source.facts),
  ];
}

export async function restoreTest(ctx: FileContext, _target: string, source: RestoreSource): Promise<Check[]> {
  const scan = await scanArchive(source.open(), true);
  refuseUnsafe(scan);
  const dir = privateScratch(ctx.home, 'file-drill-');
  try {
    await extract(ctx.exec, source.open(), dir, source.facts.xattrs === true);
    return [archiveSize(scan, source.facts), ...(await compareExtracted(dir, scan))];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
