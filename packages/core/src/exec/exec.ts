/**
 * Every subprocess batt starts goes through here: argv arrays only (never a shell), secrets
 * through files or the environment (never argv: guard.ts refuses), stderr kept (redacted) for the
 * catalog, children killed when batt exits or the run is aborted. Built on execa.
 *
 * Longer than 200 lines on purpose: these rules hold only if every child is started by the same
 * code, so spawning, the kill on exit, stderr keeping and tool-missing messages stay together.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PassThrough, Transform, Writable, type Readable } from 'node:stream';
import { secretName } from '../config/secrets.js';
import { BattError } from '../errors/errors.js';
import { refuseSecretArgs } from './guard.js';

export interface ToolOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** What the child reads: a stream batt pipes in, 'pipe' for a writable `stdin`, an open file descriptor, or nothing. */
  stdin?: Readable | 'pipe' | 'ignore' | number;
  /**
   * 'pipe' to read the child's output as a stream; 'ignore' to drop it; a Writable that wraps
   * an OS pipe (another child's stdin), or an open file descriptor, which the child then
   * writes into directly.
   */
  stdout?: 'pipe' | 'ignore' | Writable | number;
  signal?: AbortSignal;
  /**
   * The tool writes its output through a 1 MiB stdio buffer (coreutils' stdbuf, where it
   * exists). Tools like mysqldump write 4 KiB at a time into a pipe, and whoever reads it
   * (Node, or zstd) then wakes for every few KiB: measured 10 % of a dump piped straight into
   * zstd, and a third of the cost of passing one through Node. Tools that write with their own
   * large writes (tar) or without stdio (Go's mongodump) are unaffected.
   */
  bufferOutput?: boolean;
  /** Debian package that provides the tool, for the "install it" hint. */
  debianPackage?: string;
  /** The service the tool works for, named when the secret-leak guard (guard.ts) refuses it. */
  service?: string;
}

/** What a finished tool left behind. */
export interface ToolResult {
  failed: boolean;
  exitCode?: number;
  signal?: string;
  isCanceled?: boolean;
  code?: string;
  stderr?: unknown;
  stdout?: unknown;
  /** The error of the stream batt piped into the tool (a damaged artifact): the real cause. */
  inputError?: unknown;
}

/** A started tool. (Not a thenable itself: an async function returning one would wait for it.) */
export interface ToolProcess {
  /** The tool's output, when `stdout` was 'pipe'. */
  stdout: Readable | null;
  /** The tool's input, when `stdin` was 'pipe'. */
  stdin: Writable | null;
  /** Settles when the tool exited; never rejects (check `failed`). */
  result: Promise<ToolResult>;
  kill(signal?: NodeJS.Signals): void;
  /**
   * Whether the tool keeps batt running (it does from the start): a tool batt keeps for later
   * (a client waiting for queries) lets batt end while it idles.
   */
  hold(keep: boolean): void;
}

/** Tools found, by PATH and name: a run of 200 databases looks its tools up a thousand times. */
const found = new Map<string, string>();

/**
 * The absolute path of `file` on PATH (or `file` itself when it has a slash), if it exists. A
 * tool found once is not looked for again under the same PATH; one not found is, every time (it
 * may be installed since).
 */
export function which(file: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const key = `${env.PATH ?? ''}\0${file}`;
  const known = found.get(key);
  if (known) return known;
  const path = lookUp(file, env);
  if (path) found.set(key, path);
  return path;
}

function lookUp(file: string, env: NodeJS.ProcessEnv): string | undefined {
  const candidates = file.includes('/')
    ? [file]
    : (env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, file));
  return candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return statSync(path).isFile();
    } catch {
      return false;
    }
  });
}

const setpriv = which('setpriv');
const stdbuf = which('stdbuf');

/**
 * The argv that starts `path`: under `setpriv --pdeathsig KILL` where setpriv exists, so the
 * kernel kills the tool if batt dies, even by SIGKILL, and a dump never outlives batt holding
 * locks (FLUSH TABLES WITH READ LOCK) on a server.
 */
function dieWithBatt(path: string, args: readonly string[]): [string, string[]] {
  return setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', path, ...args]] : [path, [...args]];
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills every streamed child still running when batt exits, however it exits. */
function trackChild(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of live) killGroup(c, 'SIGKILL');
    });
  }
  live.add(child);
  child.on('close', () => live.delete(child));
}

/**
 * Signals a streamed child and whatever it started: each runs in its own process group, so a
 * script's `sleep` or a pipeline's other end dies with it (and cannot keep its output open).
 */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    child.kill(signal); // the group is gone: the child alone, if it still is not
  }
}

/**
 * The environment a tool runs with: batt's own, less batt's secret variables (BATT_*_PASSWORD
 * and the like: a tool gets its password from a 0600 file or its own variable, and a mysqldump
 * has no business with the Redis password), plus `extra`.
 */
export function toolEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!(name.startsWith('BATT_') && secretName.test(name))) env[name] = value;
  return { ...env, ...extra };
}

/**
 * Starts a tool whose stdout is a stream (a dump). This uses child_process.spawn rather than
 * execa: execa starts draining an unbuffered stdout on the next tick, and a dump's bytes must
 * wait, unread, for the pipeline that takes them.
 */
export async function spawnTool(file: string, args: readonly string[], options: ToolOptions = {}): Promise<ToolProcess> {
  refuseSecretArgs(file, args, options.service);
  const stdinStream = typeof options.stdin === 'object' ? options.stdin : undefined;
  const path = which(file, { ...process.env, ...options.env });
  if (!path) {
    options.stdout instanceof Writable && options.stdout.destroy();
    return { stdout: null, stdin: null, result: Promise.resolve({ failed: true, code: 'ENOENT' }), kill: () => {}, hold: () => {} };
  }
  const [command, argv] = options.bufferOutput && stdbuf ? dieWithBatt(stdbuf, ['-o1M', '--', path, ...args]) : dieWithBatt(path, args);
  const child = spawn(command, argv, {
    env: toolEnv(options.env),
    cwd: options.cwd,
    stdio: [typeof options.stdin === 'number' ? options.stdin : stdinStream || options.stdin === 'pipe' ? 'pipe' : 'ignore', options.stdout ?? 'pipe', 'pipe'],
    // Its own process group: stopping it stops what it started (killGroup).
    detached: true,
  });
  trackChild(child);
  // A failing input (a damaged artifact) stops the tool; its error becomes the result's cause.
  let inputError: unknown;
  if (stdinStream) {
    stdinStream.pipe(child.stdin!);
    child.stdin!.on('error', () => {}); // EPIPE when the tool exits early: its exit code tells why
    stdinStream.once('error', (error) => {
      inputError = error;
      child.kill('SIGKILL');
    });
  }
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    if (stderr.length < 1024 * 1024) stderr += chunk.toString('utf8');
  });
  const onAbort = (): void => {
    killGroup(child, 'SIGTERM');
    setTimeout(() => killGroup(child, 'SIGKILL'), 5000).unref();
  };
  // A signal that fired before the tool started (Ctrl-C between two stages) stops it at once.
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  const result = new Promise<ToolResult>((resolve) => {
    let spawnError: NodeJS.ErrnoException | undefined;
    child.on('error', (error: NodeJS.ErrnoException) => {
      spawnError = error;
    });
    child.on('close', (exitCode, signal) => {
      options.signal?.removeEventListener('abort', onAbort);
      resolve({
        failed: exitCode !== 0 || spawnError !== undefined || inputError !== undefined,
        inputError,
        exitCode: exitCode ?? undefined,
        signal: signal ?? undefined,
        isCanceled: options.signal?.aborted ?? false,
        code: spawnError?.code,
        stderr,
      });
    });
  });
  // Node resumes (and so drops) a child's unread stdout when the child exits: a small dump
  // could finish before the pipeline reads it. Piping into a PassThrough at once keeps it.
  const stdout = child.stdout ? child.stdout.pipe(new PassThrough({ highWaterMark: 1024 * 1024 })) : null;
  child.stdin?.on('error', () => {}); // EPIPE when the tool exits early: its exit code tells why
  const hold = (keep: boolean): void => {
    // The pipes are sockets (net.Socket), which ref and unref as the child does.
    for (const handle of [child, child.stdin, child.stdout, child.stderr] as ({ ref(): unknown; unref(): unknown } | null)[]) {
      if (keep) handle?.ref();
      else handle?.unref();
    }
  };
  return { stdout, stdin: options.stdin === 'pipe' ? child.stdin : null, result, kill: (signal) => child.kill(signal ?? 'SIGTERM'), hold };
}

/**
 * A pass-through that also feeds every chunk to `sink` (a checking tool's stdin), waiting for the
 * sink to take it. When the sink goes away (the checker exited early), the bytes still pass on:
 * the checker's own exit status says what it found.
 */
export function teeTo(sink: Writable): Transform {
  let gone = false;
  const stop = (): void => {
    gone = true;
  };
  sink.once('close', stop);
  sink.on('error', stop);
  return new Transform({
    readableHighWaterMark: 1024 * 1024,
    writableHighWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _encoding, callback) {
      if (gone || sink.write(chunk)) return callback(null, chunk);
      const go = (): void => {
        sink.off('drain', go);
        sink.off('close', go);
        callback(null, chunk);
      };
      sink.on('drain', go);
      sink.on('close', go);
    },
    flush(callback) {
      if (!gone) sink.end();
      callback();
    },
  });
}

/** Reads a tool's output (at most `cap` characters) until it ends. */
export async function collect(stream: Readable | null, cap = 1024 * 1024): Promise<string> {
  if (!stream) return '';
  stream.setEncoding('utf8'); // a character split across two chunks stays whole
  let text = '';
  for await (const chunk of stream) if (text.length < cap) text += chunk as string;
  return text;
}

/** The text of a finished subprocess's stderr. */
export function stderrText(result: { stderr?: unknown }): string {
  const value = result.stderr;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8').trim();
  return typeof value === 'string' ? value.trim() : '';
}

/**
 * Runs a tool to completion and returns its stdout (less one final newline); throws a BattError
 * that says why it failed. Through spawnTool: the same guard, environment and death with batt.
 */
export async function runTool(file: string, args: readonly string[], options: ToolOptions = {}): Promise<string> {
  const child = await spawnTool(file, args, { ...options, stdin: 'ignore', stdout: 'pipe' });
  const [out, result] = await Promise.all([collect(child.stdout, Infinity), child.result]);
  if (result.failed) throw toolFailure(file, result, options.debianPackage);
  return out.replace(/\r?\n$/, '');
}

const versions = new Map<string, Promise<string | undefined>>();

/** The first line of `file --version`, asked once per process; undefined when it cannot run. */
export function toolVersion(file: string): Promise<string | undefined> {
  let version = versions.get(file);
  if (!version) {
    version = runTool(file, ['--version']).then(
      (out) => out.split('\n')[0].trim() || undefined,
      () => undefined,
    );
    versions.set(file, version);
  }
  return version;
}

/** A BattError describing why a tool failed: missing, killed, or a non-zero exit. */
export function toolFailure(file: string, result: ToolResult, debianPackage?: string): BattError {
  if (result.code === 'ENOENT') {
    return new BattError('TOOL_MISSING', `${file} is not installed or not on PATH`, {
      hint: debianPackage ? `install it: apt-get install ${debianPackage}` : `install ${file} or put it on PATH`,
    });
  }
  if (result.isCanceled) return new BattError('INTERRUPTED', `${file} was stopped: the run was interrupted`);
  if (result.inputError instanceof BattError) return result.inputError;
  const stderr = stderrText(result);
  const why = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
  const detail = stderr ? `: ${stderr.split('\n').slice(-5).join(' | ')}` : '';
  return new BattError('TOOL_FAILED', `${file} ${why}${detail}`, { cause: result });
}
