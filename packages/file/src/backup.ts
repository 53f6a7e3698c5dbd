/** The backup side: the paths to back up, and GNU tar with its verdict. */
import { lstatSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { BattError, stderrText, toolFailure, toolVersion, type BackupCommand, type ItemFacts, type ToolResult } from '@batt/core/kit';
import { tarArgs } from './args.js';
import type { FileContext } from './index.js';

/** GNU tar's verdict: exit 1 means a file changed while read (the archive is whole: warn). */
export function judgeTar(result: ToolResult, version: string | undefined): ItemFacts {
  const stderr = stderrText(result);
  const warnings = stderr.split('\n').filter((l) => l && !l.startsWith('Total bytes written'));
  const total = /Total bytes written: (\d+)/.exec(stderr)?.[1];
  if (result.failed && !(result.exitCode === 1 && !result.signal)) throw toolFailure('tar', result, 'tar');
  return { toolVersion: version, facts: { tarBytes: total ? Number(total) : undefined }, warnings };
}

export async function listTargets(ctx: FileContext, requested: readonly string[]): Promise<string[]> {
  const paths = requested.length ? requested : (ctx.config.paths ?? []);
  if (paths.length === 0) {
    throw new BattError('USAGE', 'the file service has no paths to back up', {
      hint: 'pass --file PATH, or set file.paths in the config (e.g. paths: [/etc, /var/www])',
    });
  }
  return [...new Set(paths.map((p) => (isAbsolute(p) ? resolve(p) : resolve(process.cwd(), p))))];
}

export async function backup(ctx: FileContext, target: string): Promise<BackupCommand> {
  try {
    lstatSync(target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new BattError('NOT_FOUND', code === 'ENOENT' ? `${target} does not exist` : `cannot read ${target}: ${code}`, {
      hint: 'check the path, or remove it from --file / file.paths',
    });
  }
  // Asked beside the dump, not before it: the version only goes into the item's facts.
  const version = toolVersion('tar');
  return {
    command: 'tar',
    args: tarArgs(target, {
      exclude: ctx.config.exclude ?? [],
      oneFileSystem: ctx.config.one_file_system === true,
      xattrs: ctx.config.xattrs === true,
      sparse: ctx.config.sparse === true,
    }),
    debianPackage: 'tar',
    finish: async (result) => {
      const judged = judgeTar(result, await version);
      return { ...judged, facts: { ...judged.facts, xattrs: ctx.config.xattrs === true || undefined } };
    },
  };
}
