/**
 * `batt catalog rebuild --from <storage>`: a lost catalog rebuilt from the manifests copied to a
 * storage, for when the machine went with its disk. Each backup comes back with its copy there
 * (present with the manifest's size, and its SHA-256 unless `quick`) and its local file where
 * the run wrote it: recorded as here when it is (and intact), else fetched to that place by the
 * first restore or verify that needs it. A manifest is data from a bucket: it must be batt's in
 * every field, and may only name local files inside this home's backup folders.
 */
import { lstatSync } from 'node:fs';
import { isAbsolute, normalize, posix } from 'node:path';
import type { BattConfig } from '../config/load.js';
import { openListing, storageEntries } from '../copies/storages.js';
import { BattError } from '../errors/errors.js';
import { insideRoots } from '../destination/folders.js';
import { manifestPattern } from '../manifest/manifest.js';
import { hashObject } from '../pipeline/hash.js';
import { localStorage } from '../storage/local.js';
import { addManifest, readManifest, type Found, type FoundItem } from './manifests.js';
import type { RebuildSource } from './rebuild.js';

/**
 * The storage the configuration names `name`, as a rebuild's source; `roots` are the backup
 * folders this home may write into. Throws USAGE when the configuration names no such storage.
 */
export async function storageSource(config: BattConfig, name: string, roots: readonly string[], host: string | undefined): Promise<RebuildSource> {
  const entries = storageEntries(config);
  const entry = entries.find((e) => e.name === name);
  if (!entry) {
    throw new BattError('USAGE', `--from ${name}: the configuration names no storage "${name}"`, {
      hint: entries.length
        ? `its storages are ${entries.map((e) => e.name).join(', ')} (docs/storage.md)`
        : 'add it under storage: as it was, with its credentials (docs/storage.md)',
    });
  }
  const { storage, root, keyOf } = await openListing(entry, host);
  const where = (key: string): string => `${name}: ${key}`;
  return {
    async scan(host, skipped) {
      const runs = new Map<string, Found>();
      const manifests: string[] = [];
      for await (const key of storage.list(root)) if (manifestPattern.test(posix.basename(key))) manifests.push(key);
      for (const key of manifests.sort()) {
        try {
          const m = await readManifest(key, storage);
          if (host !== undefined && m.run.host !== host) {
            skipped.push({ file: where(key), why: `run ${m.run.id} was made on host ${m.run.host}, not ${host} (--any-host takes it in)` });
            continue;
          }
          const items: FoundItem[] = [];
          for (const i of m.items) {
            const object = posix.join(posix.dirname(key), i.name);
            const copyKey = keyOf(object, { service: i.service, host: m.run.host, startedAt: m.run.startedAt });
            const file = typeof i.file === 'string' && isAbsolute(i.file) && normalize(i.file) === i.file && i.file.endsWith(`/${i.name}`) ? i.file : undefined;
            if (!file || !insideRoots(file, roots)) {
              skipped.push({
                file: where(object),
                why: `run ${m.run.id} names the local file ${JSON.stringify(i.file)}, which is not inside this home's backup folders (${roots.join(', ') || 'none'}): configure the destination the backups were made with`,
              });
            } else if (copyKey === undefined) {
              skipped.push({ file: where(object), why: `run ${m.run.id}: the object is not where that run put its copies (the storage's remote changed?)` });
            } else items.push({ ...i, path: file, key: copyKey, object });
          }
          addManifest(runs, m, where(key), (await storage.stat(key))?.modified, items);
        } catch (error) {
          skipped.push({ file: where(key), why: `unreadable manifest: ${(error as Error).message}` });
        }
      }
      return { runs, bundles: new Map() };
    },
    async prove(item, runId, quick) {
      const object = item.object!;
      const stat = await storage.stat(object);
      if (!stat) return { why: `run ${runId}: the copy is not in ${name}` };
      if (stat.bytes !== item.bytes) return { why: `run ${runId}: ${stat.bytes} bytes in ${name}, ${item.bytes} in the manifest` };
      if (!quick && (await hashObject(storage, object)).sha256 !== item.sha256) return { why: `run ${runId}: SHA-256 in ${name} differs from the manifest` };
      const here = lstatSync(item.path, { throwIfNoEntry: false });
      const intact = !!here?.isFile() && here.size === item.bytes && (quick || (await hashObject(localStorage, item.path)).sha256 === item.sha256);
      return { here: intact, copy: { storage: name, key: item.key!, bytes: item.bytes, sha256: item.sha256, copiedAt: stat.modified.toISOString() } };
    },
  };
}
