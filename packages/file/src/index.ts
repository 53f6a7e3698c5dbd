/**
 * The `file` service (alias `files`): one tar per path, keeping modes, owners (where the
 * restoring user may), mtimes, ACLs, xattrs and symlinks as links. GNU tar does the reading
 * and writes straight into the core's compressor; batt hashes and places the result.
 */
import { existsSync, lstatSync, rmSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { BattError, assertChecks, definePlugin, privateScratch, stderrText, toolFailure, toolVersion, type Check, type ItemFacts, type ToolResult } from '@batt/core/kit';
import { compareExtracted, conflictsIn, extract, moveInto, nonEmpty, refuseUnsafe, removeStaging, scanArchive, stagingIn, type Scan } from './restore.js';
import { tarArgs } from './tar-args.js';

export { tarArgs } from './tar-args.js';
export * from './restore.js';

/** GNU tar's verdict: exit 1 means a file changed while read (the archive is whole: warn). */
export function judgeTar(result: ToolResult, version: string | undefined): ItemFacts {
  const stderr = stderrText(result);
  const warnings = stderr.split('\n').filter((l) => l && !l.startsWith('Total bytes written'));
  const total = /Total bytes written: (\d+)/.exec(stderr)?.[1];
  if (result.failed && !(result.exitCode === 1 && !result.signal)) throw toolFailure('tar', result, 'tar');
  return { toolVersion: version, facts: { tarBytes: total ? Number(total) : undefined }, warnings };
}

export const filePlugin = definePlugin({
  name: 'file',
  targetsArePaths: true,
  aliases: ['files'],
  summary: 'folders and files, as a tar of each path',
  targetOption: { name: 'file', aliases: ['files'], describe: 'a path to back up (repeatable); implies the file service' },
  configKeys: {
    paths: { type: 'string[]', describe: 'paths to back up when none is given on the command line' },
    exclude: { type: 'string[]', describe: 'tar --exclude patterns, e.g. "*.log" or "/var/www/cache"' },
    one_file_system: { type: 'boolean', describe: 'do not descend into other mounted filesystems' },
    xattrs: { type: 'boolean', describe: 'also keep extended attributes, POSIX ACLs and SELinux labels (slower: pax format)' },
    sparse: { type: 'boolean', describe: 'store holes in sparse files (VM images, databases) as holes' },
  },
  extension: '.tar',

  async listTargets(ctx, requested) {
    const paths = requested.length ? requested : ((ctx.config.paths as string[] | undefined) ?? []);
    if (paths.length === 0) {
      throw new BattError('USAGE', 'the file service has no paths to back up', {
        hint: 'pass --file PATH, or set file.paths in the config (e.g. paths: [/etc, /var/www])',
      });
    }
    return [...new Set(paths.map((p) => (isAbsolute(p) ? resolve(p) : resolve(process.cwd(), p))))];
  },

  async backup(ctx, target) {
    try {
      lstatSync(target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new BattError('NOT_FOUND', code === 'ENOENT' ? `${target} does not exist` : `cannot read ${target}: ${code}`, {
        hint: 'check the path, or remove it from --file / file.paths',
      });
    }
    const version = await toolVersion('tar');
    return {
      command: 'tar',
      args: tarArgs(target, {
        exclude: (ctx.config.exclude as string[] | undefined) ?? [],
        oneFileSystem: ctx.config.one_file_system === true,
        xattrs: ctx.config.xattrs === true,
        sparse: ctx.config.sparse === true,
      }),
      debianPackage: 'tar',
      finish: (result) => {
        const judged = judgeTar(result, version);
        return { ...judged, facts: { ...judged.facts, xattrs: ctx.config.xattrs === true || undefined } };
      },
    };
  },

  restoreInto: (_target, runId) => resolve(`batt-restore-${runId}`),

  async planRestore(_ctx, target, into) {
    const dir = resolve(into);
    // The archive holds the path as it was, without its leading /: that is where it comes back.
    const own = join(dir, target.replace(/^\/+/, ''));
    return { label: `folder ${dir}`, exists: nonEmpty(own) || (existsSync(own) && !statSync(own).isDirectory()) };
  },

  async restore(ctx, _target, source, options) {
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
      await extract(source.open(), staging.dir, ctx.signal, source.facts.xattrs === true);
      const checks = assertChecks('the extracted files do not match the archive', [archiveSize(scan, source.facts), ...(await compareExtracted(staging.dir, scan))]);
      moveInto(staging.dir, to, options.force);
      ok = true;
      return checks;
    } finally {
      removeStaging(staging, to, ok);
    }
  },

  async verify(_ctx, _target, source) {
    const scan = await scanArchive(source.open(), false);
    return [
      { name: 'tar listing', ok: true, detail: `${scan.entries.size} entries` },
      { name: 'safe entries', ok: scan.problems.length === 0, detail: scan.problems.length ? scan.problems.slice(0, 5).join('; ') : 'every entry stays inside the target' },
      archiveSize(scan, source.facts),
    ];
  },

  async restoreTest(ctx, _target, source) {
    const scan = await scanArchive(source.open(), true);
    refuseUnsafe(scan);
    const dir = privateScratch(ctx.home, 'file-drill-');
    try {
      await extract(source.open(), dir, ctx.signal, source.facts.xattrs === true);
      return [archiveSize(scan, source.facts), ...(await compareExtracted(dir, scan))];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
});

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

export default filePlugin;
