/**
 * The storages of `storage:` (docs/storage.md), opened for one service of one run: each with the
 * key its copy of a local file gets there. The key mirrors the file's place below the
 * destination's fixed root, under the entry's expanded prefix, so a bucket reads like the folder.
 */
import { join, posix, relative, sep } from 'node:path';
import type { BattConfig } from '../config/load.js';
import { readSecretFile } from '../config/secrets.js';
import type { StorageConfig } from '../config/schema.js';
import { BattError } from '../errors/errors.js';
import { expandPattern, staticRoot } from '../destination/expand.js';
import { LocalStorage } from '../storage/local.js';
import { journaled } from '../storage/journaled.js';
import type { Storage } from '../storage/storage.js';

export interface Copier {
  name: string;
  /** A run is ok only when every required copy is confirmed. */
  required: boolean;
  storage: Storage;
  /** Where the copy of the local `file` goes in this storage. */
  keyFor(file: string): string;
}

export interface StorageScope {
  /** The destination pattern the local files were written under. */
  destination: string;
  service: string;
  host: string;
  clock: Date;
  /** Where puts note what they would leave behind if killed (pending.ts): a backup run's. */
  pending?: string;
}

const usage = (entry: StorageConfig, what: string): BattError =>
  new BattError('CONFIG', `storage "${entry.name ?? '?'}": ${what}`, { hint: 'see docs/storage.md for the keys of each storage type' });

async function open(entry: StorageConfig, expand: (pattern: string) => string): Promise<Storage> {
  if (entry.type === 'local') {
    if (!entry.path) throw usage(entry, 'a local storage needs `path`');
    return new LocalStorage();
  }
  if (entry.type === 's3') {
    if (!entry.bucket) throw usage(entry, 'an s3 storage needs `bucket`');
    const { S3Storage } = await import('../storage/s3.js');
    const secret = entry.secret_access_key_file ? readSecretFile(`storage "${entry.name ?? '?'}": secret_access_key_file`, entry.secret_access_key_file) : undefined;
    if (entry.access_key_id && !secret) throw usage(entry, '`access_key_id` needs `secret_access_key_file` (or use the AWS SDK credential chain)');
    return new S3Storage({
      name: entry.name!,
      bucket: entry.bucket,
      endpoint: entry.endpoint,
      region: entry.region,
      forcePathStyle: entry.force_path_style,
      credentials: entry.access_key_id && secret ? { accessKeyId: entry.access_key_id, secretAccessKey: secret } : undefined,
    });
  }
  if (!entry.remote) throw usage(entry, 'an rclone storage needs `remote`');
  const { RcloneStorage } = await import('../storage/rclone.js');
  return new RcloneStorage({ name: entry.name!, remote: expand(entry.remote), configFile: entry.rclone_config });
}

/** The copiers of `entries` for one service; throws CONFIG for an entry that lacks what its type needs. */
export async function openStorages(entries: readonly StorageConfig[] | undefined, scope: StorageScope): Promise<Copier[]> {
  const expand = (pattern: string): string => expandPattern(pattern, scope.clock, { service: scope.service, host: scope.host });
  const root = staticRoot(scope.destination);
  const seen = new Set<string>();
  const copiers: Copier[] = [];
  for (const entry of entries ?? []) {
    if (!entry.name || !entry.type) throw usage(entry, 'every storage needs a `name` and a `type` (s3, rclone or local)');
    if (seen.has(entry.name)) throw usage(entry, 'two storages have this name: give each its own');
    seen.add(entry.name);
    const opened = await open(entry, expand);
    const scoped = { storage: entry.name, service: scope.service, host: scope.host, runStartedAt: scope.clock.toISOString() };
    const storage = scope.pending ? journaled(opened, scope.pending, scoped) : opened;
    const prefix = entry.prefix ? expand(entry.prefix) : '';
    const below = (file: string): string => {
      const rel = relative(root, file);
      return (rel.startsWith('..') ? file.split(sep).slice(-2).join(sep) : rel).split(sep).join('/');
    };
    const keyFor =
      entry.type === 'local' ? (file: string) => join(expand(entry.path!), prefix, below(file)) : (file: string) => posix.join(prefix, below(file)).replace(/^\/+/, '');
    copiers.push({ name: entry.name, required: entry.required ?? true, storage, keyFor });
  }
  return copiers;
}

/** A service's `storage:` list, else the top level's. */
export function storagesOf(config: BattConfig | undefined, service: string): readonly StorageConfig[] | undefined {
  return (config?.services[service]?.storage as StorageConfig[] | undefined) ?? config?.storage;
}

/**
 * The copier of a recorded copy's storage, opened as the run that made the copy opened it (an
 * rclone remote may name its host and date); undefined when the configuration no longer names it.
 */
export async function copierOf(config: BattConfig | undefined, service: string, copy: { storage: string; host: string; runStartedAt: string }): Promise<Copier | undefined> {
  if (!config) return undefined; // no configuration, no storages
  // Opened once per configuration, service, host and run start: a prune of many backups opens each storage once.
  const byScope = opened.get(config) ?? new Map<string, Promise<Copier[]>>();
  opened.set(config, byScope);
  const scope = `${service}\0${copy.host}\0${copy.runStartedAt}`;
  let copiers = byScope.get(scope);
  if (!copiers) {
    copiers = openStorages(storagesOf(config, service), { destination: '/', service, host: copy.host, clock: new Date(copy.runStartedAt) });
    copiers.catch(() => byScope.delete(scope)); // a configuration error is reported each time, not remembered
    byScope.set(scope, copiers);
  }
  return (await copiers).find((c) => c.name === copy.storage);
}

/** Every storage entry the configuration names (top level and per service), one per name. */
export function storageEntries(config: BattConfig): StorageConfig[] {
  const byName = new Map<string, StorageConfig>();
  const lists = [config.storage, ...Object.values(config.services).map((s) => s?.storage as StorageConfig[] | undefined)];
  for (const entry of lists.flatMap((list) => list ?? [])) if (entry.name && !byName.has(entry.name)) byName.set(entry.name, entry);
  return [...byName.values()];
}

/** The part of a pattern before its first strftime or placeholder segment ("myswift:backups/{host}" → "myswift:backups"). */
export function fixedPart(pattern: string): string {
  const parts = pattern.split('/');
  const at = parts.findIndex((part) => /[%{]/.test(part));
  return (at < 0 ? parts : parts.slice(0, at)).join('/');
}

/** An rclone path: `key` below `remote` (`remote:` and `remote:folder/` take it without a slash). */
export const rclonePath = (remote: string, key: string): string => (key === '' ? remote : /[:/]$/.test(remote) ? `${remote}${key}` : `${remote}/${key}`);

export interface Listing {
  storage: Storage;
  /** What to list: everything below it may be a backup of this host (of any host, without one). */
  root: string;
  /** The key a copy made by a run of `host` started at `startedAt` has, from its key in this listing; undefined when it cannot be one. */
  keyOf(listed: string, scope: { service: string; host: string; startedAt: string }): string | undefined;
}

/**
 * A storage opened to be listed across runs (`batt catalog rebuild --from`): at the fixed part of
 * its location, with `{host}` filled in when only one host's backups are wanted.
 */
export async function openListing(entry: StorageConfig, host: string | undefined): Promise<Listing> {
  const known = (pattern: string): string => fixedPart(host === undefined ? pattern : pattern.replaceAll('{host}', host));
  const prefix = known(entry.prefix ?? '');
  if (entry.type !== 'rclone') {
    const storage = await open(entry, known);
    return { storage, root: entry.type === 'local' ? join(known(entry.path ?? '/'), prefix) : prefix, keyOf: (listed) => listed };
  }
  const fixed = known(entry.remote ?? '');
  const storage = await open({ ...entry, remote: fixed }, (p) => p);
  return {
    storage,
    root: prefix,
    keyOf(listed, scope) {
      const remote = expandPattern(entry.remote!, new Date(scope.startedAt), { service: scope.service, host: scope.host });
      const path = rclonePath(fixed, listed);
      const base = rclonePath(remote, '');
      const start = /[:/]$/.test(base) ? base : `${base}/`;
      return path.startsWith(start) ? path.slice(start.length) : undefined;
    },
  };
}

const opened = new WeakMap<BattConfig, Map<string, Promise<Copier[]>>>();
