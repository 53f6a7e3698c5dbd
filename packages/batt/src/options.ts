/**
 * What the command modules in commands/*.command.ts share: the type of a command (a function that
 * adds itself to the yargs instance main.ts builds), the context it runs with, and the checks of
 * option values yargs cannot express. Loaded with main.ts on every start: keep its imports light.
 */
import type { Argv } from 'yargs';
import { BattError } from '@batt/core/errors/errors';
import type { App } from './app.js';
import { givenTwice } from './usage.js';

/** The options every command takes (main.ts declares them global). */
export interface GlobalOptions {
  home: string | undefined;
  config: string | undefined;
  json: boolean;
  quiet: boolean;
}

/** What a command's handler runs with. */
export interface CommandContext {
  app: App;
  /** The arguments as given (without node and the script). */
  argv: readonly string[];
  /** batt's version, from package.json. */
  version: string;
  /** Reports the command's exit code to main(). */
  done(code: number): void;
}

/** One command: its yargs definition (command string, description, builder) and the handler call. */
export type Command = (cli: Argv<GlobalOptions>, ctx: CommandContext) => Argv<GlobalOptions>;

/** A usage error: one message, and the hint every option check gives. */
export function fail(message: string): never {
  throw new BattError('USAGE', message, { hint: 'see `batt --help`' });
}

export interface ParserOptions {
  key: Record<string, unknown>;
  alias: Record<string, string[]>;
  array: string[];
}

/**
 * yargs turns a flag given twice into a list. Where one value is expected (--path, --compression,
 * --config, …) that is a usage error, never a silent pick of one: only the repeatable flags
 * (declared as arrays: --file, --target, …) may repeat. Booleans given twice stay booleans.
 */
export function onceEach(parsed: Record<string, unknown>, options: ParserOptions, argv: readonly string[]): void {
  const aliases = new Set(Object.values(options.alias).flat());
  for (const key of Object.keys(options.key)) {
    const value = parsed[key];
    if (!Array.isArray(value) || aliases.has(key) || options.array.includes(key)) continue;
    const names = [key, ...(options.alias[key] ?? [])];
    const flagged = argv.some((a) => names.some((n) => a === `--${n}` || a.startsWith(`--${n}=`) || (n.length === 1 && /^-[^-]/.test(a) && a.includes(n))));
    if (flagged) givenTwice(key, value);
  }
}
