/**
 * The `file` service (alias `files`): one tar per path, keeping modes, owners (where the
 * restoring user may), mtimes, ACLs, xattrs and symlinks as links. GNU tar does the reading
 * and writes straight into the core's compressor; batt hashes and places the result.
 */
import { resolve } from 'node:path';
import { defineConfigKeys, definePlugin, type PluginContext } from '@batt/core/kit';
import { backup, listTargets } from './backup.js';
import { doctor } from './doctor.js';
import { planRestore, restore, restoreTest, verify } from './restore.js';

export * from './args.js';
export { judgeTar } from './backup.js';
export { extract } from './restore.js';
export * from './scan.js';
export * from './staging.js';

export const fileKeys = defineConfigKeys({
  paths: { type: 'string[]', describe: 'paths to back up when none is given on the command line' },
  exclude: { type: 'string[]', describe: 'tar --exclude patterns, e.g. "*.log" or "/var/www/cache"' },
  one_file_system: { type: 'boolean', describe: 'do not descend into other mounted filesystems' },
  xattrs: { type: 'boolean', describe: 'also keep extended attributes, POSIX ACLs and SELinux labels (slower: pax format)' },
  sparse: { type: 'boolean', describe: 'store holes in sparse files (VM images, databases) as holes' },
});

/** The context the file service's functions get: `ctx.config` typed from fileKeys. */
export type FileContext = PluginContext<typeof fileKeys>;

export const filePlugin = definePlugin({
  name: 'file',
  targetsArePaths: true,
  aliases: ['files'],
  summary: 'folders and files, as a tar of each path',
  targetOption: { name: 'file', aliases: ['files'], describe: 'a path to back up (repeatable); implies the file service' },
  configKeys: fileKeys,
  extension: '.tar',

  listTargets,
  backup,
  restoreInto: (_target, runId) => resolve(`batt-restore-${runId}`),
  planRestore,
  restore,
  verify,
  restoreTest,
  doctor,
});

export default filePlugin;
