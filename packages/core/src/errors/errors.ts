/**
 * One error type for everything batt reports to a user: a stable code, a message that
 * names the problem, a hint that names the fix, and the original cause kept for logs.
 * Exit codes are mapped here and nowhere else; only the CLI entry point calls process.exit.
 */

/** Exit codes, documented in `batt --help` and docs/usage.md. */
export const ExitCode = {
  ok: 0,
  /** Some backup, restore or verify item failed. */
  failed: 1,
  /** Bad usage or configuration: nothing was attempted. */
  usage: 2,
  /**
   * Every backup was written, but one is suspect: its size or row counts fell sharply against the
   * previous ones (unless --suspect-ok). A warning on stderr alone is lost to `-q` in cron.
   */
  suspect: 3,
  /** Another batt run holds the lock on this home (EX_TEMPFAIL: try again later). */
  locked: 75,
  /** Interrupted by SIGINT/SIGTERM. */
  interrupted: 130,
} as const;

export type ErrorCode =
  | 'USAGE'
  | 'UNKNOWN_SERVICE'
  | 'CONFIG'
  | 'PATH_PATTERN'
  | 'LOCKED'
  | 'NOT_FOUND'
  | 'TOOL_MISSING'
  | 'TOOL_FAILED'
  | 'IO'
  | 'INTEGRITY'
  | 'CATALOG'
  /** A file or folder someone other than batt's user or root could change (docs/security.md). */
  | 'UNTRUSTED'
  | 'INTERRUPTED'
  /** An item ran past its `timeout`, or sent no bytes for its `stall_timeout`. */
  | 'TIMEOUT'
  /** A child whose command line would hold a secret batt knows: not started (exec/guard.ts). */
  | 'SECRET_ON_COMMAND_LINE'
  | 'INTERNAL';

const usageCodes = new Set<ErrorCode>(['USAGE', 'UNKNOWN_SERVICE', 'CONFIG', 'PATH_PATTERN', 'NOT_FOUND', 'UNTRUSTED']);

export interface BattErrorOptions {
  hint?: string;
  cause?: unknown;
}

export class BattError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, options: BattErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BattError';
    this.code = code;
    this.hint = options.hint;
  }
}

/** The exit code for an error that ended a command. */
export function exitCodeFor(error: unknown): number {
  if (!(error instanceof BattError)) return ExitCode.failed;
  if (error.code === 'LOCKED') return ExitCode.locked;
  if (error.code === 'INTERRUPTED') return ExitCode.interrupted;
  return usageCodes.has(error.code) ? ExitCode.usage : ExitCode.failed;
}

/** A one-line description of any thrown value, for catalog rows and logs. */
export function describeError(error: unknown): string {
  if (error instanceof BattError) return error.hint ? `${error.message} (${error.hint})` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Turns a Node system error (ENOSPC, EACCES, …) into a BattError that says what to do. */
export function fromSystemError(error: unknown, what: string): BattError {
  if (error instanceof BattError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const hints: Record<string, string> = {
    ENOSPC: 'the disk is full: free space or point --path at a bigger disk',
    EDQUOT: 'the disk quota is exhausted: free space or point --path elsewhere',
    EACCES: 'permission denied: run as a user who may write there, or choose another --path/--home',
    EPERM: 'operation not permitted: run as a user who may write there, or choose another --path/--home',
    EROFS: 'the filesystem is read-only: choose another --path',
    ENOENT: 'no such file or directory',
  };
  const message = `${what}: ${(error as Error | undefined)?.message ?? String(error)}`;
  return new BattError('IO', message, { hint: code ? hints[code] : undefined, cause: error });
}

/** Edit distance counting a swap of two neighbours as one edit ("fiel" → "file"), for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The candidate closest to `word` (a typo of it: at most a third of its letters off), if any. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}
