/**
 * The pure part of the file service: the argv for GNU tar. Paths are data: they come after
 * `--`, relative to `-C /`, so a path that starts with `-` can never become an option. The
 * folder a restore extracts into is the value of `--directory=`.
 */

export interface TarOptions {
  exclude: readonly string[];
  oneFileSystem: boolean;
  /** Keep extended attributes, POSIX ACLs and SELinux labels (pax format). */
  xattrs: boolean;
  /** Detect holes in sparse files and store them as holes. */
  sparse: boolean;
}

/** `tar` arguments that write an archive of `absolutePath` to stdout. */
export function tarArgs(absolutePath: string, options: TarOptions): string[] {
  const member = absolutePath === '/' ? '.' : absolutePath.replace(/^\/+/, '');
  return [
    '--create',
    '--file=-',
    ...(options.xattrs ? ['--format=posix', '--acls', '--xattrs', '--selinux'] : ['--format=gnu']),
    ...(options.sparse ? ['--sparse'] : []),
    '--totals',
    ...(options.oneFileSystem ? ['--one-file-system'] : []),
    // Members are stored relative to /, so an absolute pattern is made relative to match them.
    ...options.exclude.map((pattern) => `--exclude=${pattern.startsWith('/') ? pattern.replace(/^\/+/, '') : pattern}`),
    '--directory=/',
    '--',
    member,
  ];
}

/** `tar` arguments that extract an archive read from stdin into `dir`; owners are kept only by root, as tar does. */
export function extractArgs(dir: string, options: { xattrs: boolean; root: boolean }): string[] {
  return ['--extract', '--file=-', `--directory=${dir}`, '--no-overwrite-dir', ...(options.xattrs ? ['--xattrs', '--acls'] : []), ...(options.root ? [] : ['--no-same-owner'])];
}
