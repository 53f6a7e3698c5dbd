/**
 * The batt command line: builds yargs (global options, help, strict parsing, the failure handler),
 * registers the commands (one module per command group in commands/*.command.ts), runs one, and
 * maps whatever went wrong to one message, a hint and an exit code through exitCodeFor. Only
 * bin/batt.js sets the process's exit code.
 */
import chalk from 'chalk';
import { BattError, exitCodeFor } from '@batt/core/errors/errors';
import { printable } from '@batt/core/text/printable';
import { backup, quickBackup } from './commands/backup.command.js';
import { accept, catalog } from './commands/catalog-tools.command.js';
import { quickRuns, runs, show } from './commands/catalog.command.js';
import { doctor } from './commands/doctor.command.js';
import { plugin } from './commands/plugin.command.js';
import { serve } from './commands/serve.command.js';
import { schedule } from './commands/schedule.command.js';
import { prune, purge } from './commands/prune.command.js';
import { restore, verify } from './commands/restore.command.js';
import { disable, enable, list } from './commands/services.command.js';
import { onceEach, type Command, type CommandContext, type ParserOptions } from './options.js';
import { usageError } from './usage.js';

/** The subcommands, for naming the one a usage error is about. */
const commands = ['list', 'enable', 'disable', 'runs', 'show', 'catalog', 'accept', 'restore', 'prune', 'purge', 'verify', 'doctor', 'plugin', 'schedule', 'serve'];

/** Every command, in the order `batt --help` lists them. */
const modules: Command[] = [backup, list, enable, disable, runs, show, catalog, accept, restore, prune, purge, verify, doctor, plugin, schedule, serve];

const epilogue = (specifiers: readonly string[]): string => `Exit codes: 0 all good; 1 some backup, restore or verify failed; 2 bad usage or
configuration, or a restore target that exists without --force; 3 every backup was written but one
is suspect (its size or rows fell sharply; --suspect-ok exits 0); 75 another batt run holds this
home's lock; 130 interrupted.

Destination patterns take strftime specifiers (${specifiers.join(' ')}) and the
placeholders {service} and {host}; /{service} is appended when absent.
Docs: docs/usage.md, docs/configuration.md, docs/scripts.md, docs/restore.md, docs/retention.md,
docs/doctor.md, docs/scheduling.md`;

/** Runs batt with `argv` (without node and the script); `version` comes from package.json. */
export async function main(argv: string[], version: string): Promise<number> {
  let code = 0;
  try {
    const quick = await quickRuns(argv);
    if (quick !== undefined) return quick;
    const { loadApp, peekHome } = await import('./app.js');
    const app = loadApp(peekHome(argv), argv);
    const backingUp = await quickBackup(app, argv, version, commands);
    if (backingUp !== undefined) return backingUp;
    const [{ default: yargs }, { supportedSpecifiers }] = await Promise.all([import('yargs'), import('@batt/core/destination/expand')]);
    const parser = yargs(argv);
    let cli = parser
      .scriptName('batt')
      .usage('batt [services..] [options]\n\nBack up every enabled service, or just the ones named.')
      .version(version)
      .alias('version', 'V')
      .help()
      .alias('help', 'h')
      .strict()
      .wrap(Math.min(100, process.stdout.columns || 100))
      .exitProcess(false)
      .middleware((a) => onceEach(a, (parser as unknown as { getOptions(): ParserOptions }).getOptions(), argv), true)
      .fail((message, error) => {
        if (error) throw error;
        const command = argv.find((a) => commands.includes(a)) ?? '';
        // yargs keeps the running command's options on the one instance.
        throw usageError(message, { command, options: Object.keys((cli as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions().key), argv });
      })
      .epilogue(epilogue(supportedSpecifiers))
      .option('home', { type: 'string', describe: `batt home (scripts, conf, catalog); env BATT_HOME [${printable(app.home.root)}]`, global: true })
      .option('config', { type: 'string', describe: 'read configuration from this file only', global: true })
      .option('json', { type: 'boolean', default: false, describe: 'print machine-readable JSON', global: true })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'errors only: no progress, plan or summary', global: true });

    const ctx: CommandContext = { app, argv, version, done: (c) => (code = c) };
    for (const command of modules) cli = command(cli, ctx);

    await cli.parseAsync();
    return code;
  } catch (error) {
    return report(error);
  }
}

/** Says what ended the command: one line, and a hint. Names in them are escaped (printable). */
function report(error: unknown): number {
  if (error instanceof BattError) {
    process.stderr.write(`${chalk.red('batt:')} ${printable(error.message)}\n`);
    if (error.hint) process.stderr.write(`${chalk.dim('hint:')} ${printable(error.hint)}\n`);
  } else {
    const e = error as Error;
    process.stderr.write(`${chalk.red('batt: internal error:')} ${printable(String(e?.message ?? error))}\n`);
    if (process.env.BATT_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
    else process.stderr.write(`${chalk.dim('hint:')} set BATT_DEBUG=1 for details, and please report it\n`);
  }
  return exitCodeFor(error);
}
