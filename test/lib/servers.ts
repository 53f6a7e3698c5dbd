/**
 * Private database servers for tests: each starts in its own temporary folder on a free
 * loopback port and is stopped (and its folder removed) by `stop()`. They never touch the
 * servers this machine may already run on the standard ports. Used by every suite that needs
 * a real MariaDB, PostgreSQL or Redis.
 */
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { freePort } from '@batt/core/exec/free-port';

export { freePort };


async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not start within ${timeoutMs / 1000}s`);
}

export interface Server {
  host: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------- MariaDB

export interface MariaDb extends Server {
  socket: string;
  /** Runs SQL as root through the socket; returns tab-separated rows. */
  sql(statement: string, database?: string): Promise<string>;
}

export async function startMariaDb(): Promise<MariaDb> {
  const dir = mkdtempSync(join(tmpdir(), 'batt-mariadb-'));
  const data = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  const port = await freePort();
  await execa('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve'], { reject: true });
  const server = execa('mariadbd', ['--no-defaults', `--datadir=${data}`, `--socket=${socket}`, `--port=${port}`, '--bind-address=127.0.0.1', '--user=root',
    `--pid-file=${join(dir, 'mysqld.pid')}`, '--skip-name-resolve', '--innodb-buffer-pool-size=64M', '--innodb-log-file-size=16M', `--log-error=${join(dir, 'error.log')}`], { reject: false, cleanup: true });
  const sql = async (statement: string, database?: string): Promise<string> =>
    (await execa('mariadb', ['--no-defaults', '-uroot', `--socket=${socket}`, '-N', '-B', '-e', statement, ...(database ? ['--', database] : [])])).stdout;
  await waitFor('mariadbd', async () => existsSync(socket) && (await sql('SELECT 1')) === '1');
  return {
    host: '127.0.0.1', port, dir, socket, sql,
    async stop() {
      server.kill('SIGTERM');
      await server;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- PostgreSQL

export interface Postgres extends Server {
  /** The superuser `postgres`'s password (scram-sha-256 over TCP). */
  password: string;
  sql(statement: string, database?: string): Promise<string>;
}

export function postgresBin(tool: string): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(base, v, 'bin', tool))) return join(base, v, 'bin', tool);
  return tool;
}

export async function startPostgres(): Promise<Postgres> {
  const dir = mkdtempSync(join(tmpdir(), 'batt-postgres-'));
  chownSync(dir, ...(await pgIds()));
  const data = join(dir, 'data');
  const port = await freePort();
  const password = 'pg-secret-pw';
  writeFileSync(join(dir, 'pw'), password);
  chownSync(join(dir, 'pw'), ...(await pgIds()));
  const asPostgres = (cmd: string, args: string[], options = {}) => execa('runuser', ['-u', 'postgres', '--', cmd, ...args], { cwd: dir, ...options });
  await asPostgres(postgresBin('initdb'), ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${join(dir, 'pw')}`, '-E', 'UTF8', '--locale=C.UTF-8']);
  await asPostgres(postgresBin('pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  const sql = async (statement: string, database = 'postgres'): Promise<string> =>
    (await asPostgres('psql', ['-X', '-q', '-A', '-t', '-h', dir, '-p', String(port), '-U', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', statement,
      // As a quoted conninfo value: a bare name with '=' in it would be read as a conninfo string.
      `--dbname=dbname='${database.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`])).stdout;
  return {
    host: '127.0.0.1', port, dir, password, sql,
    async stop() {
      await asPostgres(postgresBin('pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], { reject: false });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let ids: [number, number] | undefined;
async function pgIds(): Promise<[number, number]> {
  if (!ids) {
    const [uid, gid] = await Promise.all([execa('id', ['-u', 'postgres']), execa('id', ['-g', 'postgres'])]);
    ids = [Number(uid.stdout), Number(gid.stdout)];
  }
  return ids;
}

// ---------------------------------------------------------------- Redis

export interface Redis extends Server {
  password?: string;
  cli(...args: string[]): Promise<string>;
}

export async function startRedis(options: { password?: string } = {}): Promise<Redis> {
  const dir = mkdtempSync(join(tmpdir(), 'batt-redis-'));
  const port = await freePort();
  const server: ResultPromise = execa('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
    ...(options.password ? ['--requirepass', options.password] : [])], { reject: false, cleanup: true });
  const cli = async (...args: string[]): Promise<string> =>
    (await execa('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { env: options.password ? { REDISCLI_AUTH: options.password } : {} })).stdout;
  await waitFor('redis-server', async () => (await cli('PING')) === 'PONG');
  return {
    host: '127.0.0.1', port, dir, password: options.password, cli,
    async stop() {
      server.kill('SIGTERM');
      await server;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
