/**
 * What the command modules in commands/*.command.ts share: the type of a command (a function that
 * adds itself to the yargs instance main.ts builds), the context it runs with, and the checks of
 * option values yargs cannot express; and the pieces of their definitions more than one command
 * uses (command, the --target option, outputOf, listOf). Loaded with main.ts on every start: keep its imports light.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { BattError } from '@batt/core/errors/errors';
import type { App } from './app.js';
import { givenTwice } from './usage.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Strict<O extends Options> = { args: string[]; strict: true; allowPositionals: true; tokens: true; options: O };

/**
 * `argv` read strictly with its tokens by util.parseArgs, for the quick paths that skip yargs
 * (quickRuns, quickBackup); undefined when it does not parse, and yargs then explains.
 */
export function parsedStrictly<const O extends Options>(argv: string[], options: O): ReturnType<typeof parseArgs<Strict<O>>> | undefined {
  try {
    return parseArgs<Strict<O>>({ args: argv, strict: true, allowPositionals: true, tokens: true, options });
  } catch {
    return undefined;
  }
}

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

/**
 * A command: its yargs definition (command string, description, builder) and `run`, whose exit
 * code goes to main(). `run` imports the command's module (commands/*.ts) when it runs, so that
 * a start loads only what the command it runs needs.
 */
export function command<U>(
  name: string,
  describe: string,
  builder: (y: Argv<GlobalOptions>) => Argv<U>,
  run: (a: ArgumentsCamelCase<U>, ctx: CommandContext) => number | Promise<number>,
): Command {
  return (cli, ctx) => cli.command(name, describe, builder, async (a) => ctx.done(await run(a, ctx)));
}

/** An on/off option, off unless given. */
export function flag(describe: string) {
  return { type: 'boolean', default: false, describe } as const;
}

/** --target (-t): the repeatable filter of the commands that act on stored backups. */
export function targetOption(describe = 'only this database / path (repeatable)') {
  return { alias: 't', type: 'string', array: true, describe } as const;
}

/** --from <storage>: read the backups from their copies in that storage (docs/storage.md). */
export function fromOption() {
  return { type: 'string', describe: 'read the copies in this storage (a name under storage:), not the local files' } as const;
}

/** --identity (-i): the age identity file that decrypts encrypted backups (docs/encryption.md). */
export function identityOption() {
  return { alias: 'i', type: 'string', describe: 'age identity file (age-keygen -o) for encrypted backups [$BATT_AGE_IDENTITY]' } as const;
}

/** --metrics-file: the Prometheus textfile written after a backup or verify run (docs/metrics.md). */
export function metricsFileOption() {
  return { type: 'string', describe: 'after the run, write a Prometheus textfile for node_exporter here (config: metrics_file; docs/metrics.md)' } as const;
}

/** `<run> [service]` and --target: the backups of one run that accept and restore act on. */
export function oneRun(y: Argv<GlobalOptions>, run: string, target?: string) {
  return y
    .positional('run', { type: 'string', demandOption: true, describe: run })
    .positional('service', { type: 'string', describe: 'only this service' })
    .option('target', targetOption(target));
}

/** The values of a repeatable option or positional (yargs leaves one not given undefined). */
export function listOf(values: unknown): string[] {
  return (values as string[] | undefined) ?? [];
}

/** The global options a command passes on as they came: which config it reads, and how it prints. */
export function outputOf(a: GlobalOptions): { config: string | undefined; json: boolean; quiet: boolean } {
  return { config: a.config, json: a.json, quiet: a.quiet };
}

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
