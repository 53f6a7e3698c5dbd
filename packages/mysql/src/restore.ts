/** The restore side: the staged restore (with the --replace swap), planRestore, verify and the restore drill. */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BattError, assertChecks, compareCounts, counted, runTool, toolFailure, type Check, type RestoreOptions, type RestorePlan, type RestoreSource } from '@batt/core/kit';
import { DumpFilter, type DumpPart } from './dump-filter.js';
import { quoteIdent, rowCountQuery, sqlString, tablesQuery } from './args.js';
import { clientTool, existsQuery, explain, optionFile, query } from './session.js';
import type { MysqlContext } from './index.js';

async function databaseExists(ctx: MysqlContext, file: string, name: string): Promise<boolean> {
  const rows = await query(ctx, file, existsQuery(name));
  return rows[0]?.[0] !== '0';
}

/** `name__batt_new` (or _old), within MySQL's 64-character limit. */
function scratchName(name: string, what: string): string {
  const suffix = `__batt_${what}`;
  return [...name].slice(0, 64 - suffix.length).join('') + suffix;
}

let sandboxHelp: Promise<string[]> | undefined;
/** `--sandbox` where the client has it (MariaDB 10.5.25, 10.6.18, 10.11.8 on): no client command may touch a file. */
const sandboxOption = (): Promise<string[]> =>
  (sandboxHelp ??= runTool(clientTool(), ['--no-defaults', '--help']).then(
    (help) => (/^\s*--sandbox\b/m.test(help) ? ['--sandbox'] : []),
    () => [],
  ));

/**
 * Feeds one part of the dump into the client; the client stops at the first error. A dump is
 * code to the client: `\!` or `system` would run a shell command as batt's user. --binary-mode
 * turns every client command but \C and DELIMITER off for piped input, and --sandbox refuses
 * any that touches a file or runs a program.
 */
async function load(ctx: MysqlContext, file: string, database: string, source: RestoreSource, part: DumpPart): Promise<DumpFilter> {
  const sandbox = await sandboxOption(); // before the source opens: nothing may wait between its open and its pipe
  const filter = new DumpFilter(part);
  const input = source.open();
  input.once('error', (error) => filter.destroy(error)); // a damaged artifact stops the client
  const child = await ctx.exec.spawn(clientTool(), [`--defaults-file=${file}`, '--binary-mode', ...sandbox, '--', database], {
    stdin: input.pipe(filter),
    stdout: 'ignore',
    debianPackage: 'mariadb-client',
  });
  const result = await child.result;
  if (result.failed) throw explain(toolFailure(clientTool(), result, 'mariadb-client'));
  return filter;
}

/** CHECK TABLE over every base table: one check, failed when any table reports an error. */
async function checkTables(ctx: MysqlContext, file: string, database: string, tables: readonly string[], name: string): Promise<Check> {
  if (tables.length === 0) return { name, ok: true, detail: 'no tables' };
  const rows = await query(ctx, file, `CHECK TABLE ${tables.map((t) => `${quoteIdent(database)}.${quoteIdent(t)}`).join(', ')}`);
  const bad = rows.filter((r) => r[2]?.toLowerCase() === 'error' || (r[2]?.toLowerCase() === 'status' && r[3] !== 'OK'));
  return bad.length
    ? {
        name,
        ok: false,
        detail: bad
          .slice(0, 5)
          .map((r) => `${r[0]}: ${r[3]}`)
          .join('; '),
      }
    : { name, ok: true, detail: `${counted(tables.length, 'table')} OK` };
}

async function baseTables(ctx: MysqlContext, file: string, database: string): Promise<string[]> {
  return (await query(ctx, file, tablesQuery(database))).filter(([, , type]) => type === 'BASE TABLE').map(([name]) => name);
}

/**
 * Seed 002's staged restore: the schema first, then CHECK TABLE; the rows, then CHECK TABLE
 * again; then the row count of every table against the dump and against the backup's facts.
 */
async function stagedRestore(ctx: MysqlContext, file: string, database: string, source: RestoreSource): Promise<Check[]> {
  const recorded = source.facts.rowCounts as Record<string, number> | undefined;
  await load(ctx, file, database, source, 'schema');
  const tables = await baseTables(ctx, file, database);
  const missing = Object.keys(recorded ?? {}).filter((t) => !tables.includes(t));
  const checks: Check[] = [
    { name: 'schema', ok: missing.length === 0, detail: missing.length ? `tables missing after the schema: ${missing.join(', ')}` : `${tables.length} tables created` },
    await checkTables(ctx, file, database, tables, 'check tables (schema)'),
  ];
  assertChecks(`the schema of "${database}" failed its checks`, checks);
  const data = await load(ctx, file, database, source, 'data');
  checks.push({ name: 'trailer', ok: data.trailer, detail: data.trailer ? 'the dump was complete' : 'the dump has no completion trailer: it is truncated' });
  checks.push(await checkTables(ctx, file, database, tables, 'check tables (data)'));
  const counted = tables.length ? await query(ctx, file, rowCountQuery(database, tables)) : [];
  const actual = Object.fromEntries(counted.map(([t, n]) => [t, Number(n)]));
  checks.push(compareCounts('rows against the dump', Object.fromEntries(tables.map((t) => [t, data.rows[t] ?? 0])), actual));
  checks.push(compareCounts('rows against the backup', recorded, actual));
  return checks;
}

/**
 * Swaps the checked copy `from` in for `to`: `to` is dropped, the tables move over in one
 * RENAME TABLE, and views, routines, events and triggers (which RENAME TABLE cannot move
 * between databases) are created again from the dump. Only runs after every check passed.
 */
async function swapIn(ctx: MysqlContext, file: string, from: string, to: string, source: RestoreSource): Promise<Check> {
  const tables = await baseTables(ctx, file, from);
  const triggers = await query(ctx, file, `SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = ${sqlString(from)}`);
  for (const [trigger] of triggers) await query(ctx, file, `DROP TRIGGER ${quoteIdent(from)}.${quoteIdent(trigger)}`);
  await query(ctx, file, `DROP DATABASE IF EXISTS ${quoteIdent(to)}`);
  await query(ctx, file, `CREATE DATABASE ${quoteIdent(to)}`);
  if (tables.length) await query(ctx, file, `RENAME TABLE ${tables.map((t) => `${quoteIdent(from)}.${quoteIdent(t)} TO ${quoteIdent(to)}.${quoteIdent(t)}`).join(', ')}`);
  await load(ctx, file, to, source, 'objects');
  await query(ctx, file, `DROP DATABASE ${quoteIdent(from)}`);
  return { name: 'swap', ok: true, detail: `${counted(tables.length, 'table')} and ${counted(triggers.length, 'trigger')} now in "${to}"` };
}

export async function planRestore(ctx: MysqlContext, _target: string, into: string): Promise<RestorePlan> {
  const file = optionFile(ctx);
  try {
    return { label: `database ${into}`, exists: await databaseExists(ctx, file.path, into) };
  } finally {
    file.dispose();
  }
}

export async function restore(ctx: MysqlContext, _target: string, source: RestoreSource, options: RestoreOptions): Promise<Check[]> {
  const file = optionFile(ctx);
  try {
    const exists = await databaseExists(ctx, file.path, options.into);
    if (exists && !options.force && !options.replace)
      throw new BattError('USAGE', `database "${options.into}" already exists`, {
        hint: 'restore into a new name with --into, pass --force to replace it, or --replace to swap in a checked copy',
      });
    const name = options.replace ? scratchName(options.into, 'new') : options.into;
    if (options.replace || exists) await query(ctx, file.path, `DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
    await query(ctx, file.path, `CREATE DATABASE ${quoteIdent(name)}`);
    let checks: Check[];
    try {
      checks = assertChecks(`the restore of "${name}" failed its checks`, await stagedRestore(ctx, file.path, name, source));
    } catch (error) {
      // A restore that failed leaves no half database behind (and --replace leaves the old one as it was).
      await query(ctx, file.path, `DROP DATABASE IF EXISTS ${quoteIdent(name)}`).catch(() => {});
      throw error;
    }
    if (options.replace) {
      checks.push(
        await swapIn(ctx, file.path, name, options.into, source).catch((error: unknown) => {
          throw new BattError('TOOL_FAILED', `the restore passed its checks, but swapping it in for "${options.into}" failed: ${(error as Error).message}`, {
            hint: `the checked copy is in database "${name}"; fix the cause and run again`,
          });
        }),
      );
    }
    return checks;
  } finally {
    file.dispose();
  }
}

export async function verify(_ctx: MysqlContext, _target: string, source: RestoreSource): Promise<Check[]> {
  const scan = new DumpFilter('all');
  await pipeline(source.open(), scan, new Writable({ write: (_c, _e, cb) => cb() }));
  return [
    { name: 'trailer', ok: scan.trailer, detail: scan.trailer ? 'the dump ends with its completion trailer' : 'no "-- Dump completed" trailer: the dump is truncated' },
    compareCounts('rows in the dump', source.facts.rowCounts as Record<string, number> | undefined, scan.rows),
  ];
}

export async function restoreTest(ctx: MysqlContext, _target: string, source: RestoreSource): Promise<Check[]> {
  const file = optionFile(ctx);
  const name = `batt_drill_${source.itemId}_${Date.now().toString(36)}`;
  try {
    await query(ctx, file.path, `CREATE DATABASE ${quoteIdent(name)}`);
    return await stagedRestore(ctx, file.path, name, source);
  } finally {
    await query(ctx, file.path, `DROP DATABASE IF EXISTS ${quoteIdent(name)}`).catch(() => {});
    file.dispose();
  }
}

export async function removeRestored(ctx: MysqlContext, into: string): Promise<void> {
  const file = optionFile(ctx);
  try {
    await query(ctx, file.path, `DROP DATABASE IF EXISTS ${quoteIdent(into)}`);
  } finally {
    file.dispose();
  }
}
