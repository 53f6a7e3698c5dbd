/**
 * The manifests beside the backups, read for `batt catalog rebuild`: each checked field by field
 * before anything of it is believed (anyone who can write into a backup folder can put a file
 * there), then merged by run.
 */
import { dirname, isAbsolute, join } from 'node:path';
import { staticRoot } from '../destination/expand.js';
import { insideRoots, walkFiles } from '../destination/folders.js';
import { manifestPattern, type ManifestFailure, type ManifestItem, type ManifestRun } from '../manifest/manifest.js';
import { localStorage } from '../storage/local.js';
import { readText, type Storage } from '../storage/storage.js';
import { humanBytes } from '../text/names.js';
import { shortened } from '../text/printable.js';
import type { RebuildReport } from './rebuild.js';

const isText = (v: unknown): v is string => typeof v === 'string';
const textOrNone = (v: unknown): boolean => v === undefined || v === null || typeof v === 'string';

/** A manifest's item: `path` is its local file; from a storage (rebuild-from.ts), `object` is where it is read there and `key` its copy's key in the catalog. */
export type FoundItem = ManifestItem & { name: string; path: string; key?: string; object?: string };

export interface Found {
  run: ManifestRun;
  modified: string;
  /** Its manifests (one per folder the run wrote into). */
  manifests: string[];
  items: FoundItem[];
  /** Every manifest of a run lists all its failures: one entry each. */
  failed: Map<string, ManifestFailure>;
  /** Written by a batt that recorded neither item times nor failures. */
  older: boolean;
}

/** The most a manifest may be: one of a run with thousands of backups is well under it. */
const manifestMax = 16 * 1024 * 1024;

export interface Manifest {
  run: ManifestRun;
  items: (ManifestItem & { name: string })[];
  failed?: ManifestFailure[];
}

/**
 * One manifest, read and checked: anyone who can write into a backup folder can put a file
 * there, so it must be batt's in every field before it goes into the catalog, and name only
 * files inside its own folder (never `../../etc/shadow`, which prune would later remove).
 * Throws saying what is wrong; `scan` reports that and leaves the manifest out.
 */
export async function readManifest(path: string, storage: Storage = localStorage): Promise<Manifest> {
  const size = (await storage.stat(path))?.bytes ?? 0;
  if (size > manifestMax) throw new Error(`${humanBytes(size)}, more than the 16 MiB a manifest may be`);
  let m;
  try {
    m = JSON.parse((await readText(storage, path)) ?? 'null') as Record<string, any> | null;
  } catch (error) {
    throw new Error(`not JSON (${(error as Error).message})`);
  }
  const run = m?.run;
  if (
    m?.batt?.manifestVersion !== 1 ||
    !Array.isArray(m.items) ||
    !run ||
    !Number.isSafeInteger(run.id) ||
    run.id < 1 ||
    ![run.startedAt, run.host, run.user, run.destination].every(isText)
  ) {
    throw new Error('not a batt manifest (version 1)');
  }
  for (const i of m.items) {
    const fields =
      i &&
      isText(i.name) &&
      isText(i.service) &&
      isText(i.target) &&
      Number.isSafeInteger(i.bytes) &&
      i.bytes >= 0 &&
      isText(i.sha256) &&
      /^[0-9a-f]{64}$/.test(i.sha256) &&
      [i.compression, i.toolVersion, i.serverVersion, i.startedAt, i.finishedAt].every(textOrNone) &&
      [undefined, null, 'age', 'gpg'].includes(i.encryption) &&
      (i.recipients === undefined || i.recipients === null || (Array.isArray(i.recipients) && i.recipients.every(isText)));
    if (!fields) throw new Error(`not a batt manifest: an item is not of batt's form: ${shortened(String(JSON.stringify(i)))}`);
    if (isAbsolute(i.name) || i.name.split('/').some((part: string) => part === '' || part === '.' || part === '..')) {
      throw new Error(`not a batt manifest: ${shortened(JSON.stringify(i.name))} is not a file name inside the manifest's folder`);
    }
  }
  const failures =
    m.failed === undefined ||
    (Array.isArray(m.failed) &&
      m.failed.every(
        (f: Record<string, unknown> | null) =>
          f && isText(f.service) && isText(f.target) && (f.status === 'failed' || f.status === 'aborted') && isText(f.startedAt) && textOrNone(f.finishedAt) && textOrNone(f.error),
      ));
  if (!failures) throw new Error("not a batt manifest: its failed items are not of batt's form");
  return m as Manifest;
}

/**
 * Every manifest under `folders`, merged by run (a run writes one per folder it used). A run is
 * its id, start time and host together: an older catalog's run 7 and this one's stay apart, and
 * manifests of other hosts (a shared disk) are left out unless `host` is undefined.
 */
export async function scanManifests(
  folders: readonly string[],
  host: string | undefined,
  skipped: RebuildReport['skipped'],
  notes: RebuildReport['notes'],
): Promise<{ runs: Map<string, Found>; bundles: Map<number, string> }> {
  const runs = new Map<string, Found>();
  const bundles = new Map<number, string>();
  const manifests: string[] = [];
  for (const folder of folders) {
    walkFiles(
      folder,
      (path, name) => {
        const bundle = /^batt-run-(\d+)\.tar$/.exec(name);
        if (bundle) bundles.set(Number(bundle[1]), path);
        if (manifestPattern.test(name)) manifests.push(path);
      },
      true,
    );
  }
  for (const path of manifests) {
    const dir = dirname(path);
    try {
      const m = await readManifest(path);
      if (host !== undefined && m.run.host !== host) {
        skipped.push({ file: path, why: `run ${m.run.id} was made on host ${m.run.host}, not ${host} (--any-host takes it in)` });
        continue;
      }
      // readManifest refused names with ../ or an absolute path; a link on the way out of the
      // folder is caught here, so a planted manifest cannot make prune delete elsewhere.
      const items: FoundItem[] = [];
      for (const i of m.items) {
        const inside = insideRoots(join(dir, i.name), [dir]);
        if (inside) items.push({ ...i, path: join(dir, i.name) });
        else skipped.push({ file: path, why: `run ${m.run.id} names ${JSON.stringify(i.name)}, which is not inside the manifest's folder ${dir}: not taken in` });
      }
      const found = addManifest(runs, m, path, (await localStorage.stat(path))?.modified, items);
      // The run's destination says where batt may tidy up to: it must hold the manifest.
      if (typeof m.run.destination !== 'string' || !insideRoots(path, [staticRoot(m.run.destination)])) {
        notes.push({
          file: path,
          note: `run ${m.run.id}: its manifest names the destination ${JSON.stringify(m.run.destination)}, which does not hold it (moved backups, or a changed manifest): ${dir} is recorded instead`,
        });
        found.run = { ...found.run, destination: dir };
      }
    } catch (error) {
      skipped.push({ file: path, why: `unreadable manifest: ${(error as Error).message}` });
    }
  }
  return { runs, bundles };
}

/** Adds one manifest, with its items as found, to the run it belongs to (its id, start and host). */
export function addManifest(runs: Map<string, Found>, m: Manifest, path: string, modified: Date | undefined, items: readonly FoundItem[]): Found {
  const key = `${m.run.id}\0${m.run.startedAt}\0${m.run.host}`;
  const found: Found = runs.get(key) ?? { run: m.run, modified: (modified ?? new Date()).toISOString(), manifests: [], items: [], failed: new Map(), older: false };
  found.manifests.push(path);
  found.items.push(...items);
  if (!Array.isArray(m.failed) || m.items.some((i) => typeof i.startedAt !== 'string')) found.older = true;
  for (const f of Array.isArray(m.failed) ? m.failed : []) found.failed.set(`${f.service}\0${f.target}\0${f.startedAt}`, f);
  runs.set(key, found);
  return found;
}
