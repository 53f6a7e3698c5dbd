/**
 * The `file` service (alias `files`): one tar per path, keeping modes, owners (where the
 * restoring user may), mtimes, ACLs, xattrs and symlinks as links. GNU tar does the reading;
 * batt compresses, hashes and writes its stream like any other dump.
 */
import { lstatSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { BattError } from '@batt/core/errors/errors';
import { runTool, spawnTool, toolFailure } from '@batt/core/exec/exec';
import { definePlugin, type ItemFacts } from '@batt/core/plugins/types';
import { tarArgs } from './tar-args.js';

export { tarArgs } from './tar-args.js';

async function tarVersion(): Promise<string | undefined> {
  try {
    return (await runTool('tar', ['--version'])).split('\n')[0];
  } catch {
    return undefined;
  }
}

export const filePlugin = definePlugin({
  name: 'file',
  aliases: ['files'],
  summary: 'folders and files, as a tar of each path',
  targetOption: { name: 'file', aliases: ['files'], describe: 'a path to back up (repeatable); implies the file service' },
  configKeys: {
    paths: { type: 'string[]', describe: 'paths to back up when none is given on the command line' },
    exclude: { type: 'string[]', describe: 'tar --exclude patterns, e.g. "*.log" or "/var/www/cache"' },
    one_file_system: { type: 'boolean', describe: 'do not descend into other mounted filesystems' },
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
    const args = tarArgs(target, {
      exclude: (ctx.config.exclude as string[] | undefined) ?? [],
      oneFileSystem: ctx.config.one_file_system === true,
    });
    const [child, version] = await Promise.all([spawnTool('tar', args, { signal: ctx.signal, stdout: 'pipe' }), tarVersion()]);
    const done = child.result.then((result): ItemFacts => {
      const stderr = String(Buffer.from((result.stderr as Uint8Array | undefined) ?? []));
      const warnings = stderr.split('\n').filter((l) => l && !l.startsWith('Total bytes written'));
      const total = /Total bytes written: (\d+)/.exec(stderr)?.[1];
      // GNU tar exits 1 when a file changed while it was read: the archive is whole, so warn.
      if (result.failed && !(result.exitCode === 1 && !result.signal)) throw toolFailure('tar', result, 'tar');
      return { toolVersion: version, facts: { tarBytes: total ? Number(total) : undefined }, warnings };
    });
    return { stream: child.stdout!, done };
  },
});

export default filePlugin;
