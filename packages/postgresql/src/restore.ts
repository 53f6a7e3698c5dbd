/** The restore side: restore (with the --replace swap), planRestore, verify and the restore drill. */
import { createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BattError, assertChecks, collect, compareCounts, privateScratch, toolFailure } from '@batt/core/kit';
import type { Check, RestoreOptions, RestorePlan, RestoreSource } from '@batt/core/kit';
import { conninfo, GLOBALS } from './args.js';
import { globalsTrailer, readScript, restoreGlobals, shown } from './globals.js';
import { restrictedScript } from './script.js';
import { explain, feedTool, ident, literal, maintenanceDb, psql, serverFacts, session, type Session } from './session.js';
import { pgTool } from './tools.js';
import type { PostgresqlContext } from './index.js';

async function databaseExists(ctx: PostgresqlContext, s: Session, name: string): Promise<boolean> {
  const rows = await psql(ctx, s, maintenanceDb(ctx.config), `SELECT count(*) FROM pg_database WHERE datname = ${literal(name)}`);
  return rows[0]?.[0] !== '0';
}

/** `name__batt_new` (or _old), within PostgreSQL's 63-byte limit. */
function scratchName(name: string, what: string): string {
  const suffix = `__batt_${what}`;
  let base = name;
  while (Buffer.byteLength(base + suffix) > 63) base = [...base].slice(0, -1).join('');
  return base + suffix;
}

/** Creates `name`, restores the archive into it (parallel jobs from a private copy) and counts rows. */
async function restoreDatabase(ctx: PostgresqlContext, s: Session, name: string, source: RestoreSource, jobs: number): Promise<Check[]> {
  await psql(ctx, s, maintenanceDb(ctx.config), `CREATE DATABASE ${ident(name)}`);
  const args = ['--no-password', '--exit-on-error', '--no-owner', `--dbname=${conninfo(s.conn, name)}`];
  if (jobs > 1) {
    // pg_restore runs jobs in parallel only from a file it can seek in.
    const dir = privateScratch(ctx.home, 'pg-restore-');
    try {
      const copy = join(dir, 'archive.dump');
      await pipeline(source.open(), createWriteStream(copy, { mode: 0o600 }));
      const tool = await pgTool('pg_restore', s.conn);
      const child = await ctx.exec.spawn(tool.file, [...args, `--jobs=${jobs}`, '--', copy], {
        stdout: 'ignore',
        env: { ...s.env, ...tool.env },
        debianPackage: 'postgresql-client',
      });
      const result = await child.result;
      if (result.failed) throw explain(toolFailure('pg_restore', result, 'postgresql-client'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else await feedTool(ctx, s, 'pg_restore', args, source.open());
  const actual = (await serverFacts(ctx, s, name, true, source.facts.rowsCountedFrom === 'dump')).rowCounts;
  return [
    { name: 'pg_restore', ok: true, detail: `restored into "${name}"${jobs > 1 ? ` with ${jobs} jobs` : ''}` },
    compareCounts('rows against the backup', source.facts.rowCounts as Record<string, number> | undefined, actual),
  ];
}

/** Swaps `from` in for `to` with two renames; the old `to` is dropped only after both worked. */
async function swapIn(ctx: PostgresqlContext, s: Session, from: string, to: string): Promise<Check> {
  const admin = maintenanceDb(ctx.config);
  const old = scratchName(to, 'old');
  await psql(ctx, s, admin, `DROP DATABASE IF EXISTS ${ident(old)} WITH (FORCE)`);
  const existed = await databaseExists(ctx, s, to);
  if (existed) {
    await psql(ctx, s, admin, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${literal(to)} AND pid <> pg_backend_pid()`);
    await psql(ctx, s, admin, `ALTER DATABASE ${ident(to)} RENAME TO ${ident(old)}`);
  }
  try {
    await psql(ctx, s, admin, `ALTER DATABASE ${ident(from)} RENAME TO ${ident(to)}`);
  } catch (error) {
    if (existed) await psql(ctx, s, admin, `ALTER DATABASE ${ident(old)} RENAME TO ${ident(to)}`).catch(() => {});
    throw new BattError('TOOL_FAILED', `the restore passed its checks, but swapping it in for "${to}" failed: ${(error as Error).message}`, {
      hint: `the checked copy is in database "${from}"`,
    });
  }
  if (existed) await psql(ctx, s, admin, `DROP DATABASE ${ident(old)} WITH (FORCE)`);
  return { name: 'swap', ok: true, detail: `the checked copy is now "${to}"${existed ? ' (the old one was dropped)' : ''}` };
}

export async function planRestore(ctx: PostgresqlContext, target: string, into: string): Promise<RestorePlan> {
  if (target === GLOBALS) return { label: 'roles and tablespaces of the server (existing ones are kept)', exists: false };
  const s = session(ctx);
  try {
    return { label: `database ${into}`, exists: await databaseExists(ctx, s, into) };
  } finally {
    s.dispose();
  }
}

export async function restore(ctx: PostgresqlContext, target: string, source: RestoreSource, options: RestoreOptions): Promise<Check[]> {
  const s = session(ctx);
  try {
    if (target === GLOBALS) return [await restoreGlobals(ctx, s, source)];
    const exists = await databaseExists(ctx, s, options.into);
    if (exists && !options.force && !options.replace)
      throw new BattError('USAGE', `database "${options.into}" already exists`, {
        hint: 'restore into a new name with --into, pass --force to replace it, or --replace to swap in a checked copy',
      });
    const name = options.replace ? scratchName(options.into, 'new') : options.into;
    if (options.replace || exists) await psql(ctx, s, maintenanceDb(ctx.config), `DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
    let checks: Check[];
    try {
      checks = assertChecks(`the restore of "${name}" failed its checks`, await restoreDatabase(ctx, s, name, source, options.jobs));
    } catch (error) {
      await psql(ctx, s, maintenanceDb(ctx.config), `DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`).catch(() => {});
      throw error;
    }
    if (options.replace) checks.push(await swapIn(ctx, s, name, options.into));
    return checks;
  } finally {
    s.dispose();
  }
}

export async function verify(ctx: PostgresqlContext, target: string, source: RestoreSource): Promise<Check[]> {
  if (target === GLOBALS) {
    const script = await readScript(source);
    const ok = globalsTrailer.test(script.slice(-200));
    const { refused } = restrictedScript(script);
    return [
      { name: 'trailer', ok, detail: ok ? 'pg_dumpall finished the dump' : 'no "cluster dump complete" trailer: the dump is truncated' },
      {
        name: 'psql commands',
        ok: refused.length === 0,
        detail: refused.length ? `a backslash command batt never runs: ${shown(refused)}` : "none but pg_dumpall's own \\restrict",
      },
    ];
  }
  const child = await ctx.exec.spawn('pg_restore', ['--list'], { stdin: source.open(), stdout: 'pipe', debianPackage: 'postgresql-client' });
  const [list, result] = await Promise.all([collect(child.stdout, Infinity), child.result]);
  if (result.failed) return [{ name: 'pg_restore --list', ok: false, detail: toolFailure('pg_restore', result, 'postgresql-client').message }];
  const tables = (list.match(/ TABLE DATA /g) ?? []).length;
  const expected = Object.keys((source.facts.rowCounts as Record<string, number> | undefined) ?? {}).length;
  return [
    { name: 'pg_restore --list', ok: true, detail: `the archive lists ${list.split('\n').filter((l) => /^\d+;/.test(l)).length} entries` },
    { name: 'tables', ok: !source.facts.rowCounts || tables >= expected, detail: `${tables} tables with data (backup recorded ${expected})` },
  ];
}

export async function restoreTest(ctx: PostgresqlContext, target: string, source: RestoreSource): Promise<Check[]> {
  if (target === GLOBALS) return verify(ctx, target, source);
  const s = session(ctx);
  const name = `batt_drill_${source.itemId}_${Date.now().toString(36)}`;
  try {
    return await restoreDatabase(ctx, s, name, source, 1);
  } finally {
    await psql(ctx, s, maintenanceDb(ctx.config), `DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`).catch(() => {});
    s.dispose();
  }
}

export async function removeRestored(ctx: PostgresqlContext, into: string): Promise<void> {
  const s = session(ctx);
  try {
    await psql(ctx, s, maintenanceDb(ctx.config), `DROP DATABASE IF EXISTS ${ident(into)} WITH (FORCE)`);
  } finally {
    s.dispose();
  }
}
