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
import { createServer } from 'node:net';

/** A TCP port free on the loopback interface right now (another process may take it later). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a server on a free port, again on another port when it fails: between choosing a free
 * port and binding it, a test file running beside this one may take it.
 */
async function onFreePort<T>(start: (port: number) => Promise<T>, tries = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await start(await freePort());
    } catch (error) {
      if (i >= tries) throw error;
    }
  }
}

/** Waits until `check` passes; fails at once when the server process has exited. */
async function waitFor(what: string, check: () => Promise<boolean>, exited: () => boolean = () => false, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    if (exited()) throw new Error(`${what} exited while starting`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not start within ${timeoutMs / 1000}s`);
}

/** A started server process and whether it has exited. */
function watch(server: ResultPromise): () => boolean {
  let exited = false;
  void server.then(() => (exited = true), () => (exited = true));
  return () => exited;
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

/** `args`: more mariadbd options (TLS certificates, say). */
export async function startMariaDb(options: { args?: string[] } = {}): Promise<MariaDb> {
  const dir = mkdtempSync(join(tmpdir(), 'batt-mariadb-'));
  const data = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  await execa('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve'], { reject: true });
  const sql = async (statement: string, database?: string): Promise<string> =>
    (await execa('mariadb', ['--no-defaults', '-uroot', `--socket=${socket}`, '-N', '-B', '-e', statement, ...(database ? ['--', database] : [])])).stdout;
  const { port, server } = await onFreePort(async (port) => {
    const server = execa('mariadbd', ['--no-defaults', `--datadir=${data}`, `--socket=${socket}`, `--port=${port}`, '--bind-address=127.0.0.1', '--user=root',
      `--pid-file=${join(dir, 'mysqld.pid')}`, '--skip-name-resolve', '--innodb-buffer-pool-size=64M', '--innodb-log-file-size=16M', `--log-error=${join(dir, 'error.log')}`, ...(options.args ?? [])], { reject: false, cleanup: true });
    await waitFor('mariadbd', async () => existsSync(socket) && (await sql('SELECT 1')) === '1', watch(server));
    return { port, server };
  });
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
  const password = 'pg-secret-pw';
  writeFileSync(join(dir, 'pw'), password);
  chownSync(join(dir, 'pw'), ...(await pgIds()));
  const asPostgres = (cmd: string, args: string[], options = {}) => execa('runuser', ['-u', 'postgres', '--', cmd, ...args], { cwd: dir, ...options });
  await asPostgres(postgresBin('initdb'), ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${join(dir, 'pw')}`, '-E', 'UTF8', '--locale=C.UTF-8']);
  // pg_ctl -w fails when the server cannot bind its port.
  const port = await onFreePort(async (port) => {
    await asPostgres(postgresBin('pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
    return port;
  });
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
  let port = 0;
  const cli = async (...args: string[]): Promise<string> =>
    (await execa('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { env: options.password ? { REDISCLI_AUTH: options.password } : {} })).stdout;
  const { server } = await onFreePort(async (free) => {
    port = free;
    const server: ResultPromise = execa('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
      ...(options.password ? ['--requirepass', options.password] : [])], { reject: false, cleanup: true });
    const exited = watch(server);
    // Our server, not one that took the port first: it has our folder as its dir.
    await waitFor('redis-server', async () => !exited() && (await cli('PING')) === 'PONG' && (await cli('CONFIG', 'GET', 'dir')).includes(dir), exited);
    return { server }; // wrapped: an async function returning execa's promise would wait for the server to exit
  });
  return {
    host: '127.0.0.1', port, dir, password: options.password, cli,
    async stop() {
      server.kill('SIGTERM');
      await server;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
