/**
 * The pure part of the file service: the argv for GNU tar. Paths are data: they come after
 * `--`, relative to `-C /`, so a path that starts with `-` can never become an option.
 */

export interface TarOptions {
  exclude: readonly string[];
  oneFileSystem: boolean;
}

/** `tar` arguments that write an archive of `absolutePath` to stdout. */
export function tarArgs(absolutePath: string, options: TarOptions): string[] {
  const member = absolutePath === '/' ? '.' : absolutePath.replace(/^\/+/, '');
  return [
    '--create',
    '--file=-',
    '--format=posix',
    '--acls',
    '--xattrs',
    '--sparse',
    '--totals',
    ...(options.oneFileSystem ? ['--one-file-system'] : []),
    ...options.exclude.map((pattern) => `--exclude=${pattern}`),
    '--directory=/',
    '--',
    member,
  ];
}

