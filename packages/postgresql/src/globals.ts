/** The roles-and-tablespaces script of pg_dumpall --globals-only: its trailer, reading it whole, and running it under psql's \restrict. */
import { Readable } from 'node:stream';
import { BattError, runTool, stderrText, toolVersion, type Check, type RestoreSource } from '@batt/core/kit';
import { conninfo } from './args.js';
import { restrictedScript } from './script.js';
import { feedTool, maintenanceDb, type Session } from './session.js';
import { pgTool } from './tools.js';
import type { PostgresqlContext } from './index.js';

export const globalsTrailer = /PostgreSQL database cluster dump complete/;

const SCRIPT_CAP = 256 * 1024 * 1024;

/** The roles-and-tablespaces script, whole (a few hundred bytes a role), bytes as they are (latin1). */
export async function readScript(source: RestoreSource): Promise<string> {
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

export const shown = (lines: string[]): string => `${lines[0].replace(/[^\x20-\x7e]/g, '?')}${lines.length > 1 ? ` and ${lines.length - 1} more` : ''}`;

/**
 * Roles and tablespaces: psql runs the script; roles that exist already are reported, not fatal
 * (ON_ERROR_STOP=0). A psql backslash command in it would run as batt's user (`\!` runs a shell
 * command): the script is refused whole when it holds one, and psql runs it under batt's own
 * `\restrict`, so psql's lexer refuses any that batt's check would have missed.
 */
export async function restoreGlobals(ctx: PostgresqlContext, s: Session, source: RestoreSource): Promise<Check> {
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
