/**
 * Where backups live: one interface for every storage (the local folder now; S3 and rclone
 * remotes next). Keys are the storage's own names for objects: for the local folder, absolute
 * paths. Every implementation passes the same conformance suite (storage/conformance.ts).
 */
import type { Readable } from 'node:stream';

export interface StoredObject {
  key: string;
  bytes: number;
}

export interface PutOptions {
  /** Never replace an existing object: store nothing and resolve to undefined instead. */
  exclusive?: boolean;
  /** A fresh stream of the same bytes as the `data` stream, for a storage that retries the put. */
  reopen?: () => Readable;
  /**
   * Told what this put would leave behind if the process died now (an open multipart upload, a
   * temporary object), as a token for `abandon`, and told `undefined` once it would leave nothing.
   * A token that is never cleared names something the put could not clean up itself.
   */
  onPending?: (token: string | undefined) => void;
}

export interface Storage {
  /** A name for messages ("local folder", "s3://bucket/prefix"). */
  readonly name: string;
  /**
   * Stores `data` under `key`, atomically: a reader sees the old object or the whole new one,
   * never part of it. A put that fails (the data stream errors, the disk fills) leaves nothing new
   * under `key` and no temporary object behind. With `exclusive`, an existing `key` is never
   * replaced: the put resolves to undefined and stores nothing.
   *
   * A storage over a network retries a put that failed on the way (a reset connection, a busy
   * server). It can resend a Buffer or a string; a stream it can read only once, so a stream's put
   * is tried once unless `reopen` gives a fresh stream of the same bytes for each new attempt.
   * Storages that never retry (the local folder) ignore `reopen`.
   */
  put(key: string, data: Readable | Buffer | string, options?: PutOptions): Promise<StoredObject | undefined>;
  /** The object's bytes from the start. A missing object fails the stream with a `NOT_FOUND` BattError. */
  get(key: string): Readable;
  /** Its size and time, or undefined when there is no such object. */
  stat(key: string): Promise<{ bytes: number; modified: Date } | undefined>;
  /** Every key below `prefix` (at any depth), in no particular order; nothing when there is none. */
  list(prefix: string): AsyncIterable<string>;
  /** Removes the object: true when it was there, false when it already was not. */
  delete(key: string): Promise<boolean>;
  /**
   * Proves the storage reachable and writable with these credentials, before any dump; throws a
   * BattError naming the problem and the fix. Storages that need no proof (the local folder)
   * have none.
   */
  check?(): Promise<void>;
  /** Removes what a put that was cut off left behind, by the token its `onPending` was given. */
  abandon?(token: string): Promise<void>;
  /** A small object's text in one read, where the storage can (readText); undefined when there is none. */
  readSmall?(key: string): Promise<string | undefined>;
}

/** The whole object as text, or undefined when there is no such object. */
export async function readText(storage: Storage, key: string): Promise<string | undefined> {
  if (!(await storage.stat(key))) return undefined;
  if (storage.readSmall) return storage.readSmall(key);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of storage.get(key)) chunks.push(chunk as Buffer);
  } catch (error) {
    if ((error as { code?: string }).code === 'NOT_FOUND') return undefined;
    throw error;
  }
  return Buffer.concat(chunks).toString('utf8');
}
