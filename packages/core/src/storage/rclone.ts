/**
 * Any rclone remote (SFTP, WebDAV, Swift, GCS, Azure, …) as a storage, through the `rclone`
 * binary: argv arrays only, credentials from rclone's own config file or RCLONE_CONFIG_*
 * variables (never argv), stderr kept short and redacted (storage/rclone-failure.ts). Keys are
 * paths relative to the remote's root ("db/2024-01-01.sql.zst"), never absolute, never with "..".
 *
 * A put streams into `.batt-tmp-<pid>-<random>` beside its key (`rclone rcat`) and then moves it
 * onto the key (`rclone moveto`): a reader sees the old object or the whole new one. A put that
 * fails deletes its temporary object, unless the remote is unreachable by then: that one stays,
 * named as batt's temporary objects are. Backends without a server-side move (few: rclone says
 * which in its overview) copy and delete instead, which costs a second transfer.
 *
 * rclone retries on its own, a little (`--retries 2 --low-level-retries 3`); batt adds none.
 *
 * Longer than 200 lines on purpose: the five operations and `check` share how rclone is run and
 * what its exit codes mean (3 and 4: not found), which only hold if they stay in one class.
 */
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { createInterface } from 'node:readline';
import { PassThrough, Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { BattError } from '../errors/errors.js';
import { collect, spawnTool, type ToolProcess, type ToolResult } from '../exec/exec.js';
import { TEMP_PREFIX } from './atomic-file.js';
import { notFoundExit, rcloneFailure, secretsOf } from './rclone-failure.js';
import type { PutOptions, Storage, StoredObject } from './storage.js';

export interface RcloneOptions {
  /** A name for messages; `rclone <remote>` when not given. */
  name?: string;
  /** The remote and the folder on it that is the storage's root: `myremote:bucket/backups`. */
  remote: string;
  /** More environment for rclone: RCLONE_CONFIG_<REMOTE>_* variables, say (secret ones are masked in messages). */
  env?: Readonly<Record<string, string>>;
  /** rclone's config file (`--config`), instead of its default one. */
  configFile?: string;
}

/** Quiet, never asking, retrying a little: every rclone command batt runs gets these. */
const commonFlags = ['--ask-password=false', '-q', '--retries', '2', '--low-level-retries', '3', '--contimeout', '15s'];

const exitOf = (result: ToolResult): number => result.exitCode ?? -1;

interface Entry {
  Path: string;
  Name: string;
  Size: number;
  ModTime?: string;
  IsDir: boolean;
}

export class RcloneStorage implements Storage {
  readonly name: string;
  readonly remote: string;
  readonly #env: Record<string, string>;
  readonly #flags: string[];
  readonly #secrets: string[];

  constructor(options: RcloneOptions) {
    if (!options.remote || options.remote.startsWith('-')) throw new BattError('CONFIG', `not an rclone remote: "${options.remote}"`, { hint: 'write it as myremote:bucket/path' });
    this.remote = options.remote;
    this.name = options.name ?? `rclone ${options.remote}`;
    this.#env = { ...options.env };
    this.#flags = [...commonFlags, ...(options.configFile ? ['--config', options.configFile] : [])];
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('RCLONE_')));
    this.#secrets = secretsOf({ ...inherited, ...this.#env });
  }

  /** The rclone path of `key` (or of the root, for ''). */
  target(key: string): string {
    if (key === '') return this.remote;
    const parts = key.split('/');
    if (key.includes('\0') || parts.some((p) => p === '' || p === '.' || p === '..')) {
      throw new BattError('INTERNAL', `not a key of ${this.name}: "${key}" (keys are relative paths without "." or "..")`);
    }
    return /[:/]$/.test(this.remote) ? `${this.remote}${key}` : `${this.remote}/${key}`;
  }

  async put(key: string, data: Readable | Buffer | string, options: Pick<PutOptions, 'exclusive' | 'onPending'> = {}): Promise<StoredObject | undefined> {
    // Exclusive is checked, not enforced: rclone has no "create only if absent". Two batts putting
    // the same key at once could both pass the check (it is made twice: before the upload, and
    // again just before the move, so the window is the move's own).
    const target = this.target(key);
    if (options.exclusive && (await this.stat(key))) return undefined;
    const temp = posix.join(posix.dirname(key), `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
    let bytes = 0;
    const source: AsyncIterable<unknown> | Iterable<Buffer> = typeof data === 'string' || Buffer.isBuffer(data) ? [Buffer.from(data)] : data;
    const counted = Readable.from(
      (async function* () {
        for await (const chunk of source) {
          const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
          bytes += buffer.length;
          yield buffer;
        }
      })(),
    );
    options.onPending?.(temp);
    try {
      const sent = await this.#run(['rcat', this.target(temp)], counted);
      if (sent.inputError) throw sent.inputError;
      if (sent.failed) throw this.#failure(`storing ${key}`, sent);
      if (options.exclusive && (await this.stat(key))) {
        if (await this.#deleteQuietly(temp)) options.onPending?.(undefined);
        return undefined;
      }
      // Without --ignore-times, moveto finds an object of the same size and time "unchanged": it
      // keeps the old one and deletes the new.
      const moved = await this.#run(['moveto', '--ignore-times', this.target(temp), target]);
      if (moved.failed) throw this.#failure(`storing ${key}`, moved);
    } catch (error) {
      if (await this.#deleteQuietly(temp)) options.onPending?.(undefined);
      throw error;
    }
    options.onPending?.(undefined);
    return { key, bytes };
  }

  get(key: string): Readable {
    const out = new PassThrough({ highWaterMark: 1024 * 1024 });
    const missing = (): BattError => new BattError('NOT_FOUND', `${this.target(key)} is missing`, { hint: 'it was moved or deleted; `batt catalog check` shows what else is' });
    const read = async (): Promise<void> => {
      // `rclone cat` of a folder gives every file in it, joined: a key must name a file.
      if (!(await this.stat(key))) throw missing();
      const proc = await this.#start(['cat', this.target(key)]);
      const stdout = proc.stdout!;
      out.once('close', () => {
        proc.kill('SIGKILL');
        stdout.destroy();
      });
      stdout.pipe(out, { end: false });
      const [result] = await Promise.all([proc.result, finished(stdout)]);
      if (result.failed) throw notFoundExit.has(exitOf(result)) ? missing() : this.#failure(`reading ${key}`, result);
      out.end();
    };
    read().catch((error: unknown) => out.destroy(error as Error));
    return out;
  }

  async stat(key: string): Promise<{ bytes: number; modified: Date } | undefined> {
    const result = await this.#run(['lsjson', '--stat', '--no-mimetype', this.target(key)]);
    if (result.failed) {
      if (notFoundExit.has(exitOf(result))) return undefined;
      // rclone before 1.57 has no --stat: the parent's listing says as much.
      if (/unknown flag: --stat/.test(String(result.stderr))) return this.#statByListing(key);
      throw this.#failure(`looking up ${key}`, result);
    }
    return fileInfo(JSON.parse(String(result.stdout)) as Entry);
  }

  async #statByListing(key: string): Promise<{ bytes: number; modified: Date } | undefined> {
    const result = await this.#run(['lsjson', '--files-only', '--max-depth', '1', '--no-mimetype', this.target(posix.dirname(key) === '.' ? '' : posix.dirname(key))]);
    if (result.failed) {
      if (notFoundExit.has(exitOf(result))) return undefined;
      throw this.#failure(`looking up ${key}`, result);
    }
    const entry = (JSON.parse(String(result.stdout)) as Entry[]).find((e) => e.Name === posix.basename(key));
    return entry && fileInfo(entry);
  }

  async *list(prefix: string): AsyncIterable<string> {
    const base = prefix.replace(/\/+$/, '');
    // The trailing slash makes rclone list a folder: a file named `prefix` is not below it.
    const proc = await this.#start(['lsjson', '-R', '--files-only', '--no-mimetype', '--no-modtime', base ? `${this.target(base)}/` : this.remote]);
    let done = false;
    let found = 0;
    try {
      // lsjson writes one entry a line: `[`, `{…},`, …, `{…}`, `]`.
      for await (const line of createInterface({ input: proc.stdout!, crlfDelay: Infinity })) {
        const text = line.trim().replace(/,$/, '');
        if (!text.startsWith('{')) continue;
        found++;
        const path = (JSON.parse(text) as Entry).Path;
        yield base ? `${base}/${path}` : path;
      }
      const result = await proc.result;
      done = true;
      if (result.failed && !(found === 0 && notFoundExit.has(exitOf(result)))) throw this.#failure(`listing ${prefix || 'its root'}`, result);
    } finally {
      if (!done) proc.kill('SIGKILL');
    }
  }

  async delete(key: string): Promise<boolean> {
    if (!(await this.stat(key))) return false;
    const result = await this.#run(['deletefile', this.target(key)]);
    if (!result.failed) return true;
    if (!(await this.stat(key))) return false; // someone else deleted it meanwhile
    throw this.#failure(`deleting ${key}`, result);
  }

  /**
   * The remote is configured, reachable, readable and writable: its root is made (where the
   * backend has folders), listed, and a small object is written there and deleted. Throws one
   * BattError that names the remote, the problem and the fix.
   */
  async check(): Promise<void> {
    const step = async (what: string, args: string[], stdin?: Readable): Promise<void> => {
      const result = await this.#run(args, stdin);
      if (result.failed) throw this.#failure(what, result);
    };
    await step('creating its root', ['mkdir', this.remote]);
    await step('listing its root', ['lsf', '--max-depth', '1', this.remote]);
    const probe = this.target(`${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
    await step('writing to it', ['rcat', probe], Readable.from([Buffer.from('batt check\n')]));
    await step('deleting from it', ['deletefile', probe]);
  }

  #start(args: readonly string[], stdin?: Readable): Promise<ToolProcess> {
    return spawnTool('rclone', [...this.#flags, ...args], { env: this.#env, stdin, debianPackage: 'rclone' });
  }

  /** Runs an rclone command to its end: its result, stdout included. */
  async #run(args: readonly string[], stdin?: Readable): Promise<ToolResult> {
    const proc = await this.#start(args, stdin);
    const [stdout, result] = await Promise.all([collect(proc.stdout), proc.result]);
    return { ...result, stdout };
  }

  /** Whether the object is gone now (deleted, or never there). */
  async #deleteQuietly(key: string): Promise<boolean> {
    const result = await this.#run(['deletefile', this.target(key)]).catch(() => undefined);
    return !!result && (!result.failed || notFoundExit.has(exitOf(result)));
  }

  /** Deletes the temporary object a put that was cut off left (its token is the object's key). */
  async abandon(token: string): Promise<void> {
    await this.delete(token);
  }

  #failure(what: string, result: ToolResult): BattError {
    return rcloneFailure(this.remote, what, result, this.#secrets);
  }
}

function fileInfo(entry: Entry): { bytes: number; modified: Date } | undefined {
  if (entry.IsDir) return undefined;
  return { bytes: entry.Size, modified: entry.ModTime ? new Date(entry.ModTime) : new Date(0) };
}
