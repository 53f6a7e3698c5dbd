/**
 * Private database servers for tests: each starts in its own temporary folder on a free
 * loopback port and is stopped (and its folder removed) by `stop()`. They never touch the
 * servers this machine may already run on the standard ports. Used by every suite that needs
 * a real MariaDB, PostgreSQL or Redis.
 *
 * Every server is a child of the test process started through `setpriv --pdeathsig KILL`, so
 * the kernel kills it when the test process dies, however it dies: none outlives a killed test.
 * MariaDB and PostgreSQL data folders are initialised once per test run (mariadb-install-db and
 * initdb cost seconds of CPU each) and copied afresh for every start, every attempt included.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { createServer } from 'node:net';
import { after, before } from 'node:test';
import { standIn } from './batt.js';

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

let ownCache: string | undefined;
/** Where data folders made once are kept: the run's (run-tests.mjs sets BATT_TEST_CACHE and removes it), else this process's. */
function cacheDir(): string {
  if (process.env.BATT_TEST_CACHE) return process.env.BATT_TEST_CACHE;
  if (!ownCache) {
    const dir = mkdtempSync(join(tmpdir(), 'batt-test-cache-'));
    chmodSync(dir, 0o711); // initdb runs as postgres inside it
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    ownCache = dir;
  }
  return ownCache;
}

/**
 * A folder made once per test run by `make(dir)`, for copying. Test files run side by side may
 * both make it; the first to rename its finished folder into place wins, the other's is removed.
 */
async function template(name: string, make: (dir: string) => Promise<void>): Promise<string> {
  const ready = join(cacheDir(), name);
  if (existsSync(ready)) return ready;
  const building = mkdtempSync(join(cacheDir(), `${name}.building-`));
  try {
    await make(building);
    renameSync(building, ready);
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    if (!existsSync(ready)) throw error;
  }
  return ready;
}

/** A fresh copy of a template's `data` folder at `to` (ownership and modes kept); whatever was at `to` goes first. */
async function freshCopy(templateDir: string, to: string): Promise<void> {
  rmSync(to, { recursive: true, force: true });
  await execa('cp', ['-a', join(templateDir, 'data'), to]);
}

/** argv that runs `command` as a child the kernel kills when this process dies (optionally as `user`). */
function tied(command: string, args: readonly string[], user?: string): [string, string[]] {
  return ['setpriv', [...(user ? [`--reuid=${user}`, `--regid=${user}`, '--clear-groups'] : []), '--pdeathsig', 'KILL', '--', command, ...args]];
}

/** A started server process and whether it has exited. */
function watch(server: ResultPromise): () => boolean {
  let exited = false;
  void server.then(
    () => (exited = true),
    () => (exited = true),
  );
  return () => exited;
}

/**
 * What every started server is: where it listens, its folder and process, and `stop()`, which ends
 * the process with `signal` and removes the folder.
 */
function running(port: number, dir: string, server: ResultPromise, signal: NodeJS.Signals): Server {
  return {
    host: '127.0.0.1',
    port,
    dir,
    pid: server.pid!,
    async stop() {
      server.kill(signal);
      await server;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Server {
  host: string;
  port: number;
  dir: string;
  /** The server process. */
  pid: number;
  stop(): Promise<void>;
}

/**
 * A server for the enclosing `describe`: started by a `before` hook registered here (so after
 * the hooks registered above this call, before those below it), stopped after its last test.
 * What it returns stands for that server, so the suite's hooks and tests use it as they would
 * the started server.
 */
export function forSuite<S extends Server>(start: () => Promise<S>): S {
  let server: S | undefined;
  before(async () => {
    server = await start();
  });
  after(() => server?.stop());
  return standIn('the server', () => server);
}

// ---------------------------------------------------------------- MariaDB

export interface MariaDb extends Server {
  socket: string;
  /** Runs SQL as root through the socket; returns tab-separated rows. */
  sql(statement: string, database?: string): Promise<string>;
  /**
   * Creates `name`@127.0.0.1 with `password` and `grants` (default all, on every database) and
   * returns the BATT_MYSQL_* variables that point batt at this server, over TCP, as that user.
   */
  user(name: string, password: string, grants?: string): Promise<Record<string, string>>;
  /** The variables `user()` returned for the user named in the start options; empty without one. */
  env: Record<string, string>;
}

/** `args`: more mariadbd options (TLS certificates, say); `user`: a user to create, as `user()` does. */
export async function startMariaDb(options: { args?: string[]; user?: [name: string, password: string] } = {}): Promise<MariaDb> {
  const dir = mkdtempSync(join(tmpdir(), 'batt-mariadb-'));
  const data = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  const initialised = await template('mariadb', async (t) => {
    await execa('mariadb-install-db', [
      '--no-defaults',
      `--datadir=${join(t, 'data')}`,
      '--user=root',
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      '--skip-name-resolve',
    ]);
  });
  const sql = async (statement: string, database?: string): Promise<string> =>
    (await execa('mariadb', ['--no-defaults', '-uroot', `--socket=${socket}`, '-N', '-B', '-e', statement, ...(database ? ['--', database] : [])])).stdout;
  const { port, server } = await onFreePort(async (port) => {
    await freshCopy(initialised, data);
    // Its own tmpdir: servers side by side in one /tmp trip over each other's temporary tables.
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    const server = execa(
      ...tied('mariadbd', [
        '--no-defaults',
        `--datadir=${data}`,
        `--tmpdir=${join(dir, 'tmp')}`,
        `--socket=${socket}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        '--user=root',
        `--pid-file=${join(dir, 'mysqld.pid')}`,
        '--skip-name-resolve',
        '--innodb-buffer-pool-size=64M',
        '--innodb-log-file-size=16M',
        `--log-error=${join(dir, 'error.log')}`,
        ...(options.args ?? []),
      ]),
      { reject: false, cleanup: true },
    );
    await waitFor('mariadbd', async () => existsSync(socket) && (await sql('SELECT 1')) === '1', watch(server));
    return { port, server };
  });
  const user = async (name: string, password: string, grants = 'ALL'): Promise<Record<string, string>> => {
    const quoted = `'${password.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    await sql(`CREATE USER '${name}'@'127.0.0.1' IDENTIFIED BY ${quoted}; GRANT ${grants} ON *.* TO '${name}'@'127.0.0.1'`);
    return { BATT_MYSQL_HOST: '127.0.0.1', BATT_MYSQL_PORT: String(port), BATT_MYSQL_USER: name, BATT_MYSQL_PASSWORD: password };
  };
  const db: MariaDb = { ...running(port, dir, server, 'SIGTERM'), socket, sql, user, env: {} };
  try {
    if (options.user) db.env = await user(...options.user);
  } catch (error) {
    await db.stop();
    throw error;
  }
  return db;
}

// ---------------------------------------------------------------- PostgreSQL

export interface Postgres extends Server {
  /** The superuser `postgres`'s password (scram-sha-256 over TCP). */
  password: string;
  /** The BATT_POSTGRESQL_* variables that point batt at this server, over TCP, as `postgres`. */
  env: Record<string, string>;
  sql(statement: string, database?: string): Promise<string>;
}

export function postgresBin(tool: string): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(base, v, 'bin', tool))) return join(base, v, 'bin', tool);
  return tool;
}

const PG_PASSWORD = 'pg-secret-pw';

export async function startPostgres(): Promise<Postgres> {
  const [uid, gid] = await pgIds();
  const asPostgres = (cmd: string, args: string[], options = {}) => execa('runuser', ['-u', 'postgres', '--', cmd, ...args], options);
  const initialised = await template('postgres', async (t) => {
    chownSync(t, uid, gid);
    writeFileSync(join(t, 'pw'), PG_PASSWORD);
    chownSync(join(t, 'pw'), uid, gid);
    await asPostgres(
      postgresBin('initdb'),
      ['-D', join(t, 'data'), '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${join(t, 'pw')}`, '-E', 'UTF8', '--locale=C.UTF-8'],
      { cwd: t },
    );
  });
  const dir = mkdtempSync(join(tmpdir(), 'batt-postgres-'));
  chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  const psql = (port: number, statement: string, database = 'postgres') =>
    asPostgres(
      'psql',
      [
        '-X',
        '-q',
        '-A',
        '-t',
        '-h',
        dir,
        '-p',
        String(port),
        '-U',
        'postgres',
        '-v',
        'ON_ERROR_STOP=1',
        '-c',
        statement,
        // As a quoted conninfo value: a bare name with '=' in it would be read as a conninfo string.
        `--dbname=dbname='${database.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`,
      ],
      { cwd: dir },
    );
  // The server runs in the foreground as this process's child (no pg_ctl daemon to outlive it);
  // reached through its own socket folder, so the server that answers is ours.
  const { port, server } = await onFreePort(async (port) => {
    await freshCopy(initialised, data);
    const server = execa(...tied(postgresBin('postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'], 'postgres'), {
      cwd: dir,
      reject: false,
      cleanup: true,
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: { file: join(dir, 'log') },
    });
    await waitFor('postgres', async () => (await psql(port, 'SELECT 1')).stdout === '1', watch(server));
    return { port, server };
  });
  return {
    // SIGQUIT: immediate shutdown, the folder goes next.
    ...running(port, dir, server, 'SIGQUIT'),
    password: PG_PASSWORD,
    env: { BATT_POSTGRESQL_HOST: '127.0.0.1', BATT_POSTGRESQL_PORT: String(port), BATT_POSTGRESQL_USER: 'postgres', BATT_POSTGRESQL_PASSWORD: PG_PASSWORD },
    sql: async (statement, database) => (await psql(port, statement, database)).stdout,
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

export async function startRedis(options: { password?: string; args?: string[] } = {}): Promise<Redis> {
  const dir = mkdtempSync(join(tmpdir(), 'batt-redis-'));
  let port = 0;
  const cli = async (...args: string[]): Promise<string> =>
    (await execa('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { env: options.password ? { REDISCLI_AUTH: options.password } : {} })).stdout;
  const { server } = await onFreePort(async (free) => {
    port = free;
    // No diskless-sync delay: `redis-cli --rdb` would otherwise wait 5 s per backup (docs/services/redis.md).
    const server: ResultPromise = execa(
      ...tied('redis-server', [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
        '--repl-diskless-sync-delay',
        '0',
        ...(options.password ? ['--requirepass', options.password] : []),
        ...(options.args ?? []),
      ]),
      { reject: false, cleanup: true },
    );
    const exited = watch(server);
    // Our server, not one that took the port first: it has our folder as its dir.
    await waitFor('redis-server', async () => !exited() && (await cli('PING')) === 'PONG' && (await cli('CONFIG', 'GET', 'dir')).includes(dir), exited);
    return { server }; // wrapped: an async function returning execa's promise would wait for the server to exit
  });
  return { ...running(port, dir, server, 'SIGTERM'), password: options.password, cli };
}
