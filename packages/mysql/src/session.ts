/** What backup and restore share: the option file, the client and dump tools, queries and error explanations. */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { BattError, privateFile, serverOf, which, type ConfigOf } from '@batt/core/kit';
import { clientOptionFile, parseBatch, sqlString, type Connection } from './args.js';
import type { MysqlContext, mysqlKeys } from './index.js';

export const existsQuery = (name: string): string => `SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ${sqlString(name)}`;

function connectionOf(config: ConfigOf<typeof mysqlKeys>): Connection {
  return { ...serverOf('mysql', config), socket: config.socket, sslMode: config.ssl_mode, sslCa: config.ssl_ca, sslCert: config.ssl_cert, sslKey: config.ssl_key };
}

/** Seconds the client waits for a new connection's answer (mysql.connect_timeout). */
const defaultConnectTimeout = 15;

/**
 * A private 0600 option file holding the credentials; `dispose()` removes it. Given with
 * --defaults-file, it includes the usual option files first and then states batt's settings,
 * so batt's configuration wins over ~/.my.cnf (which --defaults-extra-file would let win), and
 * a `skip-comments` there cannot remove the completion trailer batt checks.
 */
export function optionFile(ctx: Pick<MysqlContext, 'config' | 'home'>): { path: string; dispose(): void } {
  const includes = ['/etc/mysql/my.cnf', '/etc/my.cnf', join(homedir(), '.my.cnf')].filter((f) => existsSync(f)).map((f) => `!include ${f}`);
  // The client waits for ever on a server that takes the connection and never answers (another
  // service on that port): [mysql] is read by the client alone (mysqldump refuses the option;
  // it gives up after about 10 s by itself).
  const timeout = `[mysql]\nconnect-timeout=${ctx.config.connect_timeout ?? defaultConnectTimeout}\n`;
  return privateFile(ctx.home, 'mysql-', 'client.cnf', `${includes.join('\n')}\n${clientOptionFile(connectionOf(ctx.config))}${timeout}[mysqldump]\ncomments\n`);
}

export const clientTool = (): string => (which('mariadb') ? 'mariadb' : 'mysql');
export const dumpTool = (): string => (which('mariadb-dump') ? 'mariadb-dump' : 'mysqldump');

/** Runs SQL with the mysql client; rows of cells. Errors name the server's complaint. */
export async function query(ctx: MysqlContext, file: string, sql: string): Promise<string[][]> {
  try {
    return parseBatch(await ctx.exec.run(clientTool(), [`--defaults-file=${file}`, '-N', '-B', '-e', sql], { debianPackage: 'mariadb-client' }));
  } catch (error) {
    throw explain(error);
  }
}

/** Turns client errors into messages that say what to do. */
export function explain(error: unknown): unknown {
  if (!(error instanceof BattError)) return error;
  const m = error.message;
  if (/Access denied for user .* to database|command denied/i.test(m))
    return new BattError('TOOL_FAILED', `mysql: permission denied: ${m.replace(/^.*?ERROR/, 'ERROR')}`, {
      hint: 'grant the backup user SELECT, SHOW VIEW, TRIGGER, EVENT and LOCK TABLES on the databases it backs up',
    });
  if (/Unknown database/i.test(m)) return new BattError('NOT_FOUND', `mysql: ${m.replace(/^.*?(ERROR|Got error)/, '$1')}`, { hint: 'check --mysql-db / mysql.databases' });
  if (/Access denied/i.test(m))
    return new BattError('TOOL_FAILED', `mysql: access denied: ${m.replace(/^.*?ERROR/, 'ERROR')}`, {
      hint: 'check mysql.user and mysql.password (or BATT_MYSQL_USER / BATT_MYSQL_PASSWORD)',
    });
  if (/TLS\/SSL error|SSL connection error|SSL is required/i.test(m))
    return new BattError('TOOL_FAILED', `mysql: TLS to the server failed: ${m.replace(/^.*?ERROR/, 'ERROR')}`, {
      hint: "check mysql.ssl_mode and mysql.ssl_ca (the CA that signed the server's certificate), and ssl_cert/ssl_key if the server asks for a client certificate",
    });
  if (/Can't connect|Unknown MySQL server host|Lost connection/i.test(m))
    return new BattError('TOOL_FAILED', `mysql: cannot reach the server: ${m.replace(/^.*?ERROR/, 'ERROR')}`, {
      hint: 'check mysql.host, mysql.port or mysql.socket, and that the server runs',
    });
  const command = /ERROR at line \d+: (Unknown command '\\.'|Not allowed in the sandbox mode)/.exec(m)?.[0];
  if (command) {
    return new BattError('INTEGRITY', `the dump holds a mysql client command (${command}): batt runs none, and this one did not run`, {
      hint: 'mysqldump writes no such command, so the dump was changed after the backup: restore another run, or read the dump and load it by hand',
    });
  }
  // The client echoes the failing statement (rows of data) before its ERROR line: keep just that.
  const line = /ERROR \d+ \([0-9A-Z]+\)[^|]*/.exec(m)?.[0];
  if (line) return new BattError('TOOL_FAILED', `${m.slice(0, m.indexOf(' ')).replace(/:$/, '')}: ${line.trim()}`, { hint: error.hint });
  return error;
}
