/**
 * The local folder as a storage. Keys are absolute paths. A put writes a 0600 temporary file
 * beside its key (`.batt-tmp-<pid>-<random>`, O_CREAT|O_EXCL|O_NOFOLLOW), flushes it, and then
 * renames it over the key (or, exclusive, hard-links it, which fails rather than replace), and
 * flushes the folder. The backup pipeline writes its artifacts through `create` (a file it fills
 * through a descriptor, so the zstd binary can write it itself) and drop-in scripts' files are
 * placed with `place`: both never over an existing file.
 */
import { constants, createReadStream, type Dirent } from 'node:fs';
import { link, lstat, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { BattError } from '../errors/errors.js';
import { makeTrustedDir } from '../home/home.js';
import { discardTemp, finishTemp, fsyncDir, openTemp, placeFile, tempPath } from './atomic-file.js';
import type { Storage, StoredObject } from './storage.js';

/** A file being written that has no name yet: filled through `fd`, then placed or discarded. */
export interface NewFile {
  readonly fd: number;
  /** Its temporary name (`.batt-tmp-<pid>-<random>` in the folder). */
  readonly path: string;
  /**
   * Flushes it and gives it the first free name of `base + ext`, `base-<suffix> + ext`,
   * `base-<suffix>-2 + ext`, …: never an existing file's. Returns the key (its path).
   */
  place(base: string, ext: string, suffix: string): Promise<string>;
  /** Closes and removes it: nothing stays. */
  discard(): Promise<void>;
}

const code = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;

export class LocalStorage implements Storage {
  readonly name = 'local folder';

  async put(key: string, data: Readable | Buffer | string, options: { exclusive?: boolean } = {}): Promise<StoredObject | undefined> {
    makeTrustedDir(dirname(key)); // folders, as a bucket has none: made 0700, nothing made under a folder someone else controls
    const temp = tempPath(dirname(key));
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    let bytes = 0;
    try {
      if (typeof data === 'string' || Buffer.isBuffer(data)) {
        const buffer = Buffer.from(data);
        await handle.writeFile(buffer);
        bytes = buffer.length;
      } else {
        for await (const chunk of data) {
          const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
          await handle.write(buffer);
          bytes += buffer.length;
        }
      }
      await handle.sync();
      await handle.close();
      if (options.exclusive) {
        try {
          await link(temp, key);
        } catch (error) {
          if (code(error) === 'EEXIST') return undefined;
          throw error;
        } finally {
          await unlink(temp).catch(() => {});
        }
      } else await rename(temp, key);
      await fsyncDir(dirname(key));
      return { key, bytes };
    } catch (error) {
      await handle.close().catch(() => {});
      await unlink(temp).catch(() => {});
      throw error;
    }
  }

  /**
   * A new file in `folder` (which must exist), not yet under any name a reader looks for. A failure
   * or a crash before `place` leaves at most its temporary file, which the next run removes.
   */
  async create(folder: string): Promise<NewFile> {
    const temp = await openTemp(folder);
    return {
      fd: temp.fd,
      path: temp.path,
      async place(base, ext, suffix) {
        await finishTemp(temp);
        return join(folder, await placeFile(temp.path, folder, base, ext, suffix));
      },
      discard: () => discardTemp(temp),
    };
  }

  /** Places a finished file (a drop-in script's) in `folder` under the first free name, as NewFile.place. */
  async place(path: string, folder: string, base: string, ext: string, suffix: string): Promise<string> {
    return join(folder, await placeFile(path, folder, base, ext, suffix));
  }

  get(key: string): Readable {
    const out = new PassThrough();
    const raw = createReadStream(key, { highWaterMark: 1024 * 1024 });
    raw.on('error', (error) => {
      out.destroy(code(error) === 'ENOENT' ? new BattError('NOT_FOUND', `${key} is missing`, { hint: 'it was moved or deleted; `batt catalog check` shows what else is' }) : error);
    });
    return raw.pipe(out);
  }

  /**
   * One read of a file's whole text, never through a link: a manifest or SHA256SUMS read per item
   * through get()'s 1 MiB stream buffer allocated 400 MiB over 200 items, and V8 answered with 70
   * full garbage collections. undefined when it is not there (or not a file).
   */
  async readSmall(key: string): Promise<string | undefined> {
    try {
      return await readFile(key, { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK });
    } catch (error) {
      if (['ENOENT', 'ENOTDIR', 'ELOOP', 'EISDIR'].includes(code(error) ?? '')) return undefined;
      throw error;
    }
  }

  async stat(key: string): Promise<{ bytes: number; modified: Date } | undefined> {
    try {
      const st = await lstat(key);
      return st.isFile() ? { bytes: st.size, modified: st.mtime } : undefined;
    } catch (error) {
      if (code(error) === 'ENOENT' || code(error) === 'ENOTDIR') return undefined;
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    let entries: Dirent[];
    try {
      entries = await readdir(prefix, { withFileTypes: true });
    } catch (error) {
      if (code(error) === 'ENOENT' || code(error) === 'ENOTDIR') return;
      throw error;
    }
    for (const entry of entries) {
      const path = join(prefix, entry.name);
      if (entry.isDirectory()) yield* this.list(path);
      else if (entry.isFile()) yield path;
    }
  }

  async delete(key: string): Promise<boolean> {
    try {
      await unlink(key);
      return true;
    } catch (error) {
      if (code(error) === 'ENOENT') return false;
      throw error;
    }
  }
}

/** The one local storage every part of batt uses. */
export const localStorage = new LocalStorage();
