/**
 * One mysql client process for the queries a backup asks before each dump, instead of one per
 * query: 200 databases asked 400 clients (a fork from batt and ~7 ms of CPU each), now one.
 *
 * The client reads statements on its stdin in batch mode and flushes after each (`-n`); each
 * query is followed by `SELECT '<marker>'`, a random line no escaped row can be, so its rows are
 * the lines before the marker. The client stops at the first error (--skip-force): the query that
 * ran fails with the client's own message, and the queries queued behind it go to a new client.
 * So do those behind a query that runs long (a metadata lock): one item's wait is not the
 * others'. It ends when idle; it is started, as every tool, to die with batt.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BattError, spawnTool, toolFailure, type ToolProcess } from '@batt/core/kit';
import { unescapeBatch } from './args.js';
import { clientTool, explain } from './session.js';

interface Request {
  sql: string;
  /** The option file of the item that asked: a client started for this request reads it. */
  file: string;
  marker: string;
  rows: string[];
  /** Given up (the item's deadline): taken out of its queue before it runs, or its client killed while it runs. */
  dropped?: boolean;
  /** The client it was sent to last. */
  client?: Client;
  /** Sent by warmUp: no one asked it. */
  warmUp?: boolean;
  resolve(rows: string[][]): void;
  reject(error: unknown): void;
}

/**
 * Idle this long, the client ends. An idle client does not keep batt running: when batt has
 * nothing else left to do, its idle clients are told to quit (beforeExit), and batt waits only
 * for that.
 */
const IDLE_MS = 1000;
/** A query that runs this long (a metadata lock) keeps the client: what waits behind it goes to another. */
const SLOW_MS = 2000;

/** Each client's session reads as mysqldump dumps: no sql_mode, quoted names, utf8mb4. */
const SESSION = "SET SESSION sql_mode = ''; SET SESSION sql_quote_show_create = 1; SET NAMES utf8mb4;\n";

/**
 * One client process and its queue. One query at a time is written to it, the head of the
 * queue: a query given up before its turn is taken out and never runs.
 */
class Client {
  private readonly queue: Request[] = [];
  private buffered = '';
  private idle: NodeJS.Timeout | undefined;
  private slow: NodeJS.Timeout | undefined;
  /** Ending (idle, failed, killed) or busy with a slow query: new requests go to another client. */
  private closed = false;
  private killed = false;

  constructor(
    private readonly child: ToolProcess,
    private readonly key: string,
  ) {
    child.stdin!.write(SESSION);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => this.read(chunk));
    void child.result.then((result) => {
      this.closed = true;
      clearTimeout(this.idle);
      clearTimeout(this.slow);
      if (clients.get(key)?.client === this) clients.delete(key);
      // A client that failed on its own ran the head query and stopped there: that query fails
      // with its message. One batt killed ran a query given up, already answered. What waits
      // behind goes to a new client; behind a warm-up it fails with it (one failed login, not
      // two), as does the next query when none waited.
      const queued = this.queue.splice(0);
      if (result.failed && !this.killed) {
        const error = explain(toolFailure(clientTool(), result, 'mariadb-client'));
        const head = queued.shift();
        head?.reject(error);
        if (head?.warmUp) {
          if (!queued.some((request) => !request.dropped)) failedWarmUps.set(key, error);
          for (const request of queued) request.reject(error);
          return;
        }
      }
      for (const request of queued) if (!request.dropped) submit(key, request);
    });
  }

  get open(): boolean {
    return !this.closed;
  }

  send(request: Request): void {
    clearTimeout(this.idle);
    // A warm-up alone keeps nothing running: a run that ends before its first query (a storage
    // refused) exits, and the client, still connecting to a server that does not answer, dies with batt.
    this.child.hold(!request.warmUp);
    this.queue.push(request);
    if (this.queue.length === 1) this.write(request);
  }

  /** Gives up `request`: the running query is stopped with its client; one that waits is taken out. */
  drop(request: Request): void {
    request.dropped = true;
    const at = this.queue.indexOf(request);
    if (at > 0) this.queue.splice(at, 1);
    else if (at === 0 && !this.closed) {
      this.closed = this.killed = true;
      this.child.kill('SIGKILL');
    }
  }

  private write(request: Request): void {
    this.child.stdin!.write(`${request.sql};\nSELECT '${request.marker}';\n`);
    clearTimeout(this.slow);
    this.slow = setTimeout(() => {
      if (this.queue[0] !== request || this.closed) return;
      this.closed = true;
      for (const waiting of this.queue.splice(1)) submit(this.key, waiting);
    }, SLOW_MS);
    this.slow.unref();
  }

  private read(chunk: string): void {
    this.buffered += chunk;
    for (let nl = this.buffered.indexOf('\n'); nl >= 0; nl = this.buffered.indexOf('\n')) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      const request = this.queue[0];
      if (!request) continue;
      if (line !== request.marker) {
        request.rows.push(line);
        continue;
      }
      this.queue.shift();
      clearTimeout(this.slow);
      if (!request.dropped) request.resolve(request.rows.map((row) => row.split('\t').map(unescapeBatch)));
      if (this.queue.length > 0) this.write(this.queue[0]);
    }
    if (this.queue.length === 0 && !this.killed) {
      clearTimeout(this.idle);
      this.child.hold(false);
      this.idle = setTimeout(() => this.quit(), IDLE_MS);
      this.idle.unref();
    }
  }

  /** Ends an idle client: it quits its connection and exits, and batt waits for that. */
  quit(): void {
    if (this.closed || this.queue.length > 0) return;
    this.closed = true;
    clearTimeout(this.idle);
    this.child.hold(true);
    this.child.stdin!.end();
  }
}

/** The live client of each connection, by its option file's content. */
const clients = new Map<string, { client?: Client; started: Promise<Client> }>();
// Nothing left for batt to do but idle clients: they quit, rather than be killed at exit.
process.on('beforeExit', () => {
  for (const { client } of clients.values()) client?.quit();
});

/** Sends `request` to the open client of `key` (an option file's content), starting one if none is. */
function submit(key: string, request: Request): void {
  let entry = clients.get(key);
  if (!entry || (entry.client && !entry.client.open)) {
    // --skip-force: an included my.cnf that says `force` must not make a failed query look answered.
    const started = spawnTool(clientTool(), [`--defaults-file=${request.file}`, '--skip-force', '-N', '-B', '-n'], {
      stdin: 'pipe',
      debianPackage: 'mariadb-client',
      service: 'mysql',
    }).then((child) => {
      if (!child.stdin) throw toolFailure(clientTool(), { failed: true, code: 'ENOENT' }, 'mariadb-client');
      return (made.client = new Client(child, key));
    });
    const made: { client?: Client; started: Promise<Client> } = { started };
    entry = made;
    clients.set(key, entry);
    started.catch(() => clients.get(key) === made && clients.delete(key));
  }
  entry.started.then(
    (client) => request.dropped || (client.open ? ((request.client = client), client.send(request)) : submit(key, request)),
    (error: unknown) => request.reject(error),
  );
}

/** The failure of a warm-up no query waited for, by option file content: the next query's answer. */
const failedWarmUps = new Map<string, unknown>();

/**
 * Starts the client of `file`'s connection before any query needs it; settles (never rejects)
 * once it answered or failed, and the file must stay until then.
 */
export function warmUp(file: string, signal?: AbortSignal): Promise<void> {
  return query(readFileSync(file, 'utf8'), file, 'SELECT 1', signal, true).then(
    () => {},
    () => {},
  );
}

/**
 * Runs SQL on the connection `file` (a client option file) holds, through its one client; rows
 * of cells. Errors name the server's complaint, as a client of its own would; `signal` stops a
 * query that waits (a metadata lock), and the client with it.
 */
export function sessionQuery(file: string, sql: string, signal?: AbortSignal): Promise<string[][]> {
  const key = readFileSync(file, 'utf8');
  const failed = failedWarmUps.get(key);
  if (failed === undefined) return query(key, file, sql, signal);
  failedWarmUps.delete(key);
  return Promise.reject(failed);
}

function query(key: string, file: string, sql: string, signal?: AbortSignal, warmUp = false): Promise<string[][]> {
  const stopped = (): unknown => (signal?.reason instanceof BattError ? signal.reason : new BattError('INTERRUPTED', `${clientTool()} was stopped: the run was interrupted`));
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(stopped());
    const onAbort = (): void => {
      request.reject(stopped());
      request.dropped = true;
      request.client?.drop(request);
    };
    const request: Request = {
      sql,
      file,
      marker: `batt-${randomBytes(12).toString('hex')}`,
      rows: [],
      warmUp,
      resolve: (rows) => (signal?.removeEventListener('abort', onAbort), resolve(rows)),
      reject: (error) => (signal?.removeEventListener('abort', onAbort), reject(error)),
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    submit(key, request);
  });
}
