/**
 * The `postgresql` service (alias `postgres`): `pg_dump -Fc` per non-template database, in
 * parallel up to -j, plus roles and tablespaces from `pg_dumpall --globals-only` as their own
 * item. The password reaches the tools only through a 0600 passfile (PGPASSFILE). A pg_dump
 * older than the server's major version is refused: it cannot dump newer servers correctly.
 */
import { createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BattError,
  assertChecks,
  collect,
  compareCounts,
  definePlugin,
  keepTail,
  passwordOf,
  privateFile,
  privateScratch,
  runTool,
  serverKeys,
  spawnTool,
  stderrText,
  teeTo,
  toolFailure,
  toolVersion,
  type Check,
  type PluginContext,
  type RestoreSource,
  type ToolProcess,
  type ToolResult,
} from '@batt/core/kit';
import { CopyCounter } from './copy-count.js';
import { conninfo, dumpArgs, factsScript, GLOBALS, globalsArgs, majorOf, parseFacts, passfileLine, type Connection } from './args.js';
import { restrictedScript } from './script.js';
import { pgTool, type PgTool } from './tools.js';

export * from './args.js';

function connectionOf(config: Record<string, unknown>): Connection {
  const password = passwordOf('postgresql', config);
  return {
    host: config.host as string | undefined,
    port: config.port as number | undefined,
    user: config.user as string | undefined,
    password,
    sslMode: config.ssl_mode as string | undefined,
  };
}

interface Session {
  conn: Connection;
  env: NodeJS.ProcessEnv;
  dispose(): void;
}

/** A 0600 passfile for this connection (only when a password is configured; else libpq's own). */
function session(ctx: { config: Record<string, unknown>; home: string }): Session {
  const conn = connectionOf(ctx.config);
  if (conn.password === undefined) return { conn, env: {}, dispose() {} };
  const passfile = privateFile(ctx.home, 'pg-', 'pgpass', passfileLine(conn));
  // libpq prefers PGPASSWORD over the passfile: batt's configured password must win.
  return { conn, env: { PGPASSFILE: passfile.path, PGPASSWORD: undefined }, dispose: passfile.dispose };
}

function explain(error: unknown): unknown {
  if (!(error instanceof BattError)) return error;
  const m = error.message;
  if (/password authentication failed|no password supplied/i.test(m)) {
    return new BattError('TOOL_FAILED', `postgresql: authentication failed: ${m.replace(/^.*?FATAL:\s*/s, '')}`, {
      hint: 'check postgresql.user and postgresql.password (or BATT_POSTGRESQL_USER / BATT_POSTGRESQL_PASSWORD)',
    });
  }
  if (/could not connect|Connection refused|could not translate host name|No such file or directory[\s|]*Is the server running/i.test(m)) {
    return new BattError('TOOL_FAILED', `postgresql: cannot reach the server: ${m.replace(/^.*?error:\s*/s, '')}`, {
      hint: 'check postgresql.host and postgresql.port, and that the server runs',
    });
  }
  if (/database ".*" does not exist/i.test(m)) {
    return new BattError('NOT_FOUND', `postgresql: ${m.replace(/^.*?FATAL:\s*/s, '')}`, { hint: 'check --postgresql-db / postgresql.databases' });
  }
  return error;
}

const psqlArgs = (s: Session, database: string): string[] => [
  '--no-psqlrc',
  '--no-password',
  '-X',
  '-q',
  '-A',
  '-t',
  '-F',
  '\t',
  '-v',
  'ON_ERROR_STOP=1',
  `--dbname=${conninfo(s.conn, database)}`,
];

async function psql(ctx: PluginContext, s: Session, database: string, sql: string): Promise<string[][]> {
  try {
    const tool = await pgTool('psql', s.conn);
    const out = await runTool(tool.file, [...psqlArgs(s, database), '-c', sql], { env: { ...s.env, ...tool.env }, signal: ctx.signal, debianPackage: 'postgresql-client' });
    return out === '' ? [] : out.split('\n').map((line) => line.split('\t'));
  } catch (error) {
    throw explain(error);
  }
}

/** The server's version and, with `rows`, the rows of every user table: one psql, reading factsScript. */
async function serverFacts(ctx: PluginContext, s: Session, database: string, rows: boolean, own = false): Promise<ReturnType<typeof parseFacts>> {
  const tool = await pgTool('psql', s.conn);
  const child = await spawnTool(tool.file, [...psqlArgs(s, database), '-f', '-'], {
    stdin: Readable.from([factsScript(rows, own)]),
    env: { ...s.env, ...tool.env },
    signal: ctx.signal,
    debianPackage: 'postgresql-client',
  });
  const [out, result] = await Promise.all([collect(child.stdout, Infinity), child.result]);
  if (result.failed) throw explain(toolFailure('psql', result, 'postgresql-client'));
  return parseFacts(out);
}

async function databaseExists(ctx: PluginContext, s: Session, name: string): Promise<boolean> {
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

/** Runs a tool that reads the artifact on stdin (a damaged artifact stops it). */
async function feedTool(ctx: PluginContext, s: Session, tool: string, args: string[], input: Readable): Promise<ToolResult> {
  const { file, env } = await pgTool(tool, s.conn);
  const child = await spawnTool(file, args, { stdin: input, stdout: 'ignore', env: { ...s.env, ...env }, signal: ctx.signal, debianPackage: 'postgresql-client' });
  const result = await child.result;
  if (result.failed) throw explain(toolFailure(tool, result, 'postgresql-client'));
  return result;
}

/** Creates `name`, restores the archive into it (parallel jobs from a private copy) and counts rows. */
async function restoreDatabase(ctx: PluginContext, s: Session, name: string, source: RestoreSource, jobs: number): Promise<Check[]> {
  await psql(ctx, s, maintenanceDb(ctx.config), `CREATE DATABASE ${ident(name)}`);
  const args = ['--no-password', '--exit-on-error', '--no-owner', `--dbname=${conninfo(s.conn, name)}`];
  if (jobs > 1) {
    // pg_restore runs jobs in parallel only from a file it can seek in.
    const dir = privateScratch(ctx.home, 'pg-restore-');
    try {
      const copy = join(dir, 'archive.dump');
      await pipeline(source.open(), createWriteStream(copy, { mode: 0o600 }));
      const tool = await pgTool('pg_restore', s.conn);
      const child = await spawnTool(tool.file, [...args, `--jobs=${jobs}`, '--', copy], {
        stdout: 'ignore',
        env: { ...s.env, ...tool.env },
        signal: ctx.signal,
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

const SCRIPT_CAP = 256 * 1024 * 1024;

/** The roles-and-tablespaces script, whole (a few hundred bytes a role), bytes as they are (latin1). */
async function readScript(source: RestoreSource): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of source.open() as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > SCRIPT_CAP)
      throw new BattError('INTEGRITY', 'the roles-and-tablespaces script is over 256 MiB: batt checks it whole before psql runs any of it', {
        hint: 'this is no pg_dumpall --globals-only script; restore it by hand after reading it',
      });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('latin1');
}

/** psql knows `\restrict` from PostgreSQL 13.22, 14.19, 15.14, 16.10 and 17.6 on; without it, batt runs no script. */
async function assertRestricting(s: Session): Promise<void> {
  const tool = await pgTool('psql', s.conn);
  const help = await runTool(tool.file, ['--help=commands'], { env: tool.env, debianPackage: 'postgresql-client' }).catch((error: unknown) => {
    if (error instanceof BattError && error.code === 'TOOL_MISSING') throw error;
    return '';
  });
  if (/^\s*\\restrict\b/m.test(help)) return;
  throw new BattError(
    'TOOL_MISSING',
    `${(await toolVersion(tool.file)) ?? 'this psql'} has no \\restrict, so it cannot run the roles-and-tablespaces script with its backslash commands refused`,
    {
      hint: 'install psql from PostgreSQL 13.22, 14.19, 15.14, 16.10, 17.6 or later (apt-get install postgresql-client) and put it first on PATH',
    },
  );
}

const shown = (lines: string[]): string => `${lines[0].replace(/[^\x20-\x7e]/g, '?')}${lines.length > 1 ? ` and ${lines.length - 1} more` : ''}`;

/**
 * Roles and tablespaces: psql runs the script; roles that exist already are reported, not fatal
 * (ON_ERROR_STOP=0). A psql backslash command in it would run as batt's user (`\!` runs a shell
 * command): the script is refused whole when it holds one, and psql runs it under batt's own
 * `\restrict`, so psql's lexer refuses any that batt's check would have missed.
 */
async function restoreGlobals(ctx: PluginContext, s: Session, source: RestoreSource): Promise<Check> {
  await assertRestricting(s);
  const { text, refused } = restrictedScript(await readScript(source));
  if (refused.length) {
    throw new BattError('INTEGRITY', `the roles-and-tablespaces script holds a psql backslash command (${shown(refused)}): batt runs none, and ran nothing of this script`, {
      hint: 'pg_dumpall writes no backslash commands but \\restrict and \\unrestrict, so the script was changed after the backup: restore another run, or read it and apply it by hand',
    });
  }
  const args = ['--no-psqlrc', '--no-password', '-X', '-q', '-v', 'ON_ERROR_STOP=0', '-f', '-', `--dbname=${conninfo(s.conn, maintenanceDb(ctx.config))}`];
  const result = await feedTool(ctx, s, 'psql', args, Readable.from([Buffer.from(text, 'latin1')]));
  // With ON_ERROR_STOP=0, psql goes on after refusing a command: it says so on stderr (-f - adds the line).
  const refusedByPsql = /^psql:<stdin>:(\d+): error: backslash commands are restricted/m.exec(stderrText(result));
  if (refusedByPsql) {
    throw new BattError(
      'INTEGRITY',
      `psql refused a backslash command on line ${Number(refusedByPsql[1]) - 1} of the roles-and-tablespaces script and did not run it, but ran the SQL around it: the roles and tablespaces in the script were applied`,
      {
        hint: 'the script was changed after the backup: check the roles (\\du) and tablespaces (\\db) on the server',
      },
    );
  }
  return { name: 'globals', ok: true, detail: 'roles and tablespaces applied (existing ones kept)' };
}

/** Swaps `from` in for `to` with two renames; the old `to` is dropped only after both worked. */
async function swapIn(ctx: PluginContext, s: Session, from: string, to: string): Promise<Check> {
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

const maintenanceDb = (config: Record<string, unknown>): string => (config.maintenance_db as string | undefined) ?? 'postgres';

/** Passes the bytes on unchanged and keeps the last few hundred: pg_dumpall's trailer. */
class Tail extends Transform {
  tail: Buffer = Buffer.alloc(0);
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: (error: null, chunk: Buffer) => void): void {
    this.tail = keepTail(this.tail, chunk, 512);
    callback(null, chunk);
  }
}

const globalsTrailer = /PostgreSQL database cluster dump complete/;

/**
 * pg_restore reading a custom-format archive to its end (SQL to /dev/null, no server): a pg_dump
 * that exits 0 with its archive cut short is caught, as a table whose data block never comes.
 */
/**
 * pg_restore reading the archive as it is written, to its end, every data block included; its
 * data comes out as COPY blocks, whose rows are counted: the facts of the dump's own snapshot.
 */
async function archiveReader(ctx: PluginContext, tool: PgTool): Promise<{ reader: ToolProcess; counter: CopyCounter; counted: Promise<void> }> {
  const reader = await spawnTool(tool.file, ['--data-only', '--file=-'], { stdin: 'pipe', stdout: 'pipe', env: tool.env, signal: ctx.signal, debianPackage: 'postgresql-client' });
  if (!reader.stdin || !reader.stdout) throw toolFailure('pg_restore', await reader.result, 'postgresql-client');
  const counter = new CopyCounter();
  // A stream error ends the count; pg_restore's own result says whether the archive was whole.
  return { reader, counter, counted: pipeline(reader.stdout, counter).catch(() => {}) };
}

/** The last line pg_restore wrote, without its "pg_restore: error:" prefix. */
const lastError = (result: { stderr?: unknown }): string =>
  stderrText(result)
    .split('\n')
    .filter(Boolean)
    .at(-1)
    ?.replace(/^pg_restore:\s*(error:\s*)?/, '') ?? 'it stopped early';

export const postgresqlPlugin = definePlugin({
  name: 'postgresql',
  canReplace: true,
  aliases: ['postgres'],
  summary: 'PostgreSQL databases (pg_dump -Fc each) and roles (pg_dumpall --globals-only)',
  targetOption: { name: 'postgresql-db', aliases: ['postgres-db'], describe: 'a database to back up (repeatable); implies the postgresql service' },
  configKeys: {
    ...serverKeys('postgresql', 'server host name, address or socket folder (PGHOST works too)'),
    databases: { type: 'string[]', describe: 'databases to back up (default: every non-template database)' },
    exclude: { type: 'string[]', describe: 'databases to leave out' },
    globals: { type: 'boolean', describe: 'also back up roles and tablespaces (default true when backing up all databases)' },
    maintenance_db: { type: 'string', describe: 'database to connect to for listing (default postgres)' },
    ssl_mode: { type: 'enum', values: ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'], describe: 'libpq sslmode' },
  },
  extension: (target: string) => (target === GLOBALS ? '.sql' : '.dump'),

  async listTargets(ctx, requested) {
    const configured = (ctx.config.databases as string[] | undefined) ?? [];
    const named = requested.length ? requested : configured;
    const globals = ctx.config.globals ?? named.length === 0;
    if (named.length) return [...new Set([...named, ...(globals === true ? [GLOBALS] : [])])];
    const s = session(ctx);
    try {
      const skip = new Set((ctx.config.exclude as string[] | undefined) ?? []);
      const rows = await psql(ctx, s, maintenanceDb(ctx.config), 'SELECT datname FROM pg_database WHERE NOT datistemplate AND datallowconn ORDER BY 1');
      return [...rows.map((r) => r[0]).filter((n) => !skip.has(n)), ...(globals === false ? [] : [GLOBALS])];
    } finally {
      s.dispose();
    }
  },

  async backup(ctx, database) {
    const s = session(ctx);
    try {
      const target = database === GLOBALS ? maintenanceDb(ctx.config) : database;
      const tool = database === GLOBALS ? 'pg_dumpall' : 'pg_dump';
      // One psql before the dump: the server's version and the rows of every table. Each tool's
      // version is asked once per run.
      const [version, dumper, restorer, server] = await Promise.all([
        toolVersion(tool),
        pgTool(tool, s.conn),
        database === GLOBALS ? undefined : pgTool('pg_restore', s.conn),
        serverFacts(ctx, s, target, false),
      ]);
      const { versionNum: serverNum, version: serverVersion } = server;
      const [toolMajor, serverMajor] = [majorOf(version ?? ''), majorOf(serverNum ?? '')];
      if (toolMajor !== undefined && serverMajor !== undefined && toolMajor < serverMajor) {
        throw new BattError('TOOL_MISSING', `${tool} ${toolMajor} is older than the PostgreSQL ${serverMajor} server`, {
          hint: `install postgresql-client-${serverMajor} (a pg_dump at least as new as the server) and put it first on PATH`,
        });
      }
      // The dump is judged whole only when it reads to its end: pg_dumpall's script must end with
      // its trailer, and pg_restore must read the archive through, every data block included.
      const archive = restorer ? await archiveReader(ctx, restorer) : undefined;
      const reader = archive?.reader;
      const tail = reader ? undefined : new Tail();
      return {
        command: dumper.file,
        args: database === GLOBALS ? globalsArgs(conninfo(s.conn, target)) : dumpArgs(conninfo(s.conn, database)),
        env: { ...s.env, ...dumper.env },
        debianPackage: 'postgresql-client',
        through: reader ? teeTo(reader.stdin!) : tail,
        async finish(result) {
          if (result.failed) throw explain(toolFailure(tool, result, 'postgresql-client'));
          const read = await reader?.result;
          if (read?.isCanceled) throw toolFailure('pg_restore', read);
          if (read?.failed) {
            throw new BattError(
              'TOOL_FAILED',
              `${tool} exited 0, but pg_restore cannot read its archive of "${database}" to the end (pg_restore: ${lastError(read)}): the archive is truncated, or pg_restore is older than pg_dump`,
              {
                hint: 'check the server log and the disk, and that pg_restore comes from the same PostgreSQL as pg_dump; run again',
              },
            );
          }
          if (tail && !globalsTrailer.test(tail.tail.toString('utf8'))) {
            throw new BattError('TOOL_FAILED', `${tool} exited 0 but its script has no "cluster dump complete" trailer: it is truncated`, {
              hint: 'check the server log and the disk; run again',
            });
          }
          await archive?.counted;
          const rowCounts = archive?.counter.rows ?? {};
          const facts = database === GLOBALS ? {} : { rowCounts, tables: Object.keys(rowCounts).length, rowsCountedFrom: 'dump' };
          return { toolVersion: version, serverVersion, facts, warnings: stderrText(result).split('\n').filter(Boolean) };
        },
        dispose() {
          reader?.kill('SIGKILL');
          s.dispose();
        },
      };
    } catch (error) {
      s.dispose();
      throw error;
    }
  },

  restoreInto: (target, runId) => (target === GLOBALS ? 'the server' : `${target}_restore_${runId}`),

  async planRestore(ctx, target, into) {
    if (target === GLOBALS) return { label: 'roles and tablespaces of the server (existing ones are kept)', exists: false };
    const s = session(ctx);
    try {
      return { label: `database ${into}`, exists: await databaseExists(ctx, s, into) };
    } finally {
      s.dispose();
    }
  },

  async restore(ctx, target, source, options) {
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
  },

  async verify(ctx, target, source) {
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
    const child = await spawnTool('pg_restore', ['--list'], { stdin: source.open(), stdout: 'pipe', signal: ctx.signal, debianPackage: 'postgresql-client' });
    const [list, result] = await Promise.all([collect(child.stdout, Infinity), child.result]);
    if (result.failed) return [{ name: 'pg_restore --list', ok: false, detail: toolFailure('pg_restore', result, 'postgresql-client').message }];
    const tables = (list.match(/ TABLE DATA /g) ?? []).length;
    const expected = Object.keys((source.facts.rowCounts as Record<string, number> | undefined) ?? {}).length;
    return [
      { name: 'pg_restore --list', ok: true, detail: `the archive lists ${list.split('\n').filter((l) => /^\d+;/.test(l)).length} entries` },
      { name: 'tables', ok: !source.facts.rowCounts || tables >= expected, detail: `${tables} tables with data (backup recorded ${expected})` },
    ];
  },

  async restoreTest(ctx, target, source) {
    if (target === GLOBALS) return postgresqlPlugin.verify!(ctx, target, source);
    const s = session(ctx);
    const name = `batt_drill_${source.itemId}_${Date.now().toString(36)}`;
    try {
      return await restoreDatabase(ctx, s, name, source, 1);
    } finally {
      await psql(ctx, s, maintenanceDb(ctx.config), `DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`).catch(() => {});
      s.dispose();
    }
  },
});

/** A SQL string literal with quotes doubled (standard_conforming_strings is on since 9.1). */
function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** A SQL identifier with quotes doubled. */
function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export default postgresqlPlugin;
