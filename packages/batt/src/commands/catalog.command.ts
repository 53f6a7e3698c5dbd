/** `batt runs` and `batt show`: the catalog's runs; and quickRuns, the fast path for `batt runs`. */
import { runStatuses, type RunStatus } from '@batt/core/catalog/statuses';
import { command, fail, parsedStrictly } from '../options.js';

/**
 * `batt runs …` without yargs or the plugins: the catalog listing is what scripts and monitors
 * call most, so it answers in about the time node takes to start. Anything unusual (help, an
 * unknown or malformed flag) returns undefined and goes through the full parser, which explains.
 */
export async function quickRuns(argv: string[]): Promise<number | undefined> {
  if (!argv.includes('runs')) return undefined;
  const parsed = parsedStrictly(argv, {
    home: { type: 'string' },
    config: { type: 'string' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' },
    service: { type: 'string' },
    status: { type: 'string' },
    last: { type: 'string' },
  });
  if (!parsed) return undefined;
  const { values, positionals } = parsed;
  // A flag given twice: the full parser says so (parseArgs would keep the last one quietly).
  const names = parsed.tokens.flatMap((t) => (t.kind === 'option' ? [t.name] : []));
  if (new Set(names).size !== names.length) return undefined;
  const last = values.last === undefined ? 20 : Number(values.last);
  if (positionals.length !== 1 || positionals[0] !== 'runs' || !Number.isInteger(last) || last < 1) return undefined;
  if (values.status !== undefined && !(runStatuses as readonly string[]).includes(values.status)) return undefined;
  // A service name may be an alias or a script's: only the full parser, with the plugins, knows.
  if (values.service !== undefined) return undefined;
  const [{ ensureHome, resolveHome }, { runsCommand }] = await Promise.all([import('@batt/core/home/home'), import('./runs.js')]);
  const home = ensureHome(resolveHome(values.home));
  return runsCommand(home.catalog, { service: values.service, status: values.status as RunStatus | undefined, last, json: values.json ?? false });
}

export const runs = command(
  'runs',
  'list runs from the catalog, newest first',
  (y) =>
    y
      .option('service', { type: 'string', describe: 'only runs that include this service' })
      .option('status', { choices: runStatuses, describe: 'only runs with this status' })
      .option('last', { type: 'number', default: 20, describe: 'how many runs' }),
  async (a, { app }) => {
    if (!Number.isInteger(a.last) || a.last < 1) fail(`--last must be a whole number of at least 1, got ${String(a.last)}`);
    const service = a.service === undefined ? undefined : (app.services.find((s) => s.name === a.service || s.plugin?.aliases?.includes(a.service!))?.name ?? a.service);
    const { runsCommand } = await import('./runs.js');
    return runsCommand(app.home.catalog, { service, status: a.status as RunStatus | undefined, last: a.last, json: a.json });
  },
);

export const show = command(
  'show <run>',
  'show one run: items, files, sizes, SHA-256, errors (`latest` for the newest)',
  (y) => y.positional('run', { type: 'string', demandOption: true }),
  async (a, { app }) => {
    const { showCommand } = await import('./catalog.js');
    return showCommand(app, a.run, a.json);
  },
);
