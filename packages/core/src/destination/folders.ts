/**
 * The backup folders as prune and `catalog check` see them: where a run's manifest for an
 * artifact lives, which roots batt may tidy up to, folders left empty, and files nobody knows.
 */
import { existsSync, readdirSync, realpathSync, rmdirSync } from 'node:fs';
import { dirname, join, normalize, relative, resolve, sep } from 'node:path';
import type { CatalogDb } from '../catalog/db.js';
import { itemFiles } from '../catalog/items.js';
import { bundleFiles, runDestinations, runIds } from '../catalog/runs.js';
import type { BattConfig } from '../config/load.js';
import { staticRoot } from './expand.js';
import { manifestName, manifestPattern } from '../manifest/manifest.js';

const isUnder = (path: string, root: string): boolean => path !== root && (root === '/' ? path.startsWith('/') : path.startsWith(root + sep));

/**
 * The folder holding the run's manifest for `file`, and the file's name there. Built-in
 * artifacts sit beside their manifest; a drop-in script may have written into sub-folders.
 */
export function artifactFolderOf(file: string, runId: number): { folder: string; name: string } {
  let folder = dirname(file);
  for (let up = 0; up < 8 && folder !== dirname(folder); up++, folder = dirname(folder)) {
    if (existsSync(join(folder, manifestName(runId)))) return { folder, name: relative(folder, file) };
  }
  return { folder: dirname(file), name: relative(dirname(file), file) };
}

/**
 * The fixed roots of the destinations this home wrote to (the catalog's runs, when it can be read)
 * or that its config names (`fallback`, the home's default, only when the config names none):
 * prune never goes above them, check and rebuild look below them, and nothing else is scanned.
 */
export function destinationRoots(db: CatalogDb | undefined, config: BattConfig, fallback: string): string[] {
  const patterns = new Set<string>([config.destination ?? fallback]);
  for (const d of db ? runDestinations(db) : []) patterns.add(d);
  for (const section of Object.values(config.services)) if (typeof section.destination === 'string') patterns.add(section.destination);
  return [...new Set([...patterns].map(staticRoot))].filter((r) => r !== '/');
}

/** `path` with every link on the way resolved, as far as it exists (the rest as written). */
function realPath(path: string): string {
  let existing = resolve(path);
  const rest: string[] = [];
  while (!existsSync(existing) && existing !== dirname(existing)) {
    rest.unshift(existing.slice(dirname(existing).length).replace(/^\//, ''));
    existing = dirname(existing);
  }
  return join(realpathSync(existing), ...rest);
}

/**
 * Whether a file the catalog or a manifest names lies inside one of `roots` (the backup folders
 * this home knows), links on the way resolved: paths from the catalog are data, and a file
 * outside the backups is never read, restored or deleted on their word. The file itself may be
 * missing; its folder is what counts.
 */
export function insideRoots(file: string, roots: readonly string[]): boolean {
  if (!file.startsWith('/') || normalize(file) !== file) return false;
  const folder = realPath(dirname(file));
  return roots.some((root) => {
    const real = realPath(root);
    return folder === real || isUnder(folder, real);
  });
}

/** Removes `folder` if empty, then its parents while empty, stopping below the root it is under. */
export function removeEmptyFolders(folder: string, roots: readonly string[]): void {
  if (roots.includes(folder)) return;
  const root = roots.filter((r) => isUnder(folder, r)).sort((a, b) => b.length - a.length)[0];
  let current = folder;
  for (;;) {
    try {
      rmdirSync(current);
    } catch {
      return;
    }
    const parent = dirname(current);
    if (!root || !isUnder(parent, root)) return;
    current = parent;
  }
}

/** Calls `onFile` for every file below `dir`; folders batt is still writing (`.batt-*`) are skipped when `skipBatt`. */
export function walkFiles(dir: string, onFile: (path: string, name: string) => void, skipBatt = false): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (!e.isDirectory()) onFile(path, e.name);
    else if (!skipBatt || !e.name.startsWith('.batt-')) walkFiles(path, onFile, skipBatt);
  }
}

/**
 * Files under `folders` (recursively) that the catalog does not know: not an item's artifact,
 * not a run's bundle, not a known run's manifest, not SHA256SUMS. Leftovers of a killed run
 * (`.batt-tmp-*`, `.batt-staging-*`) are orphans too.
 */
export function findOrphans(db: CatalogDb, folders: Iterable<string>): string[] {
  const candidates: string[] = [];
  const unique = [...new Set(folders)].sort();
  // A folder under another one listed is walked once.
  for (const f of unique.filter((f, i) => !unique.slice(0, i).some((g) => isUnder(f, g)))) {
    walkFiles(f, (path, name) => {
      if (name !== 'SHA256SUMS') candidates.push(path);
    });
  }
  if (candidates.length === 0) return [];
  const knownRuns = new Set(runIds(db));
  const known = new Set<string>();
  for (const file of itemFiles(db)) known.add(file);
  for (const file of bundleFiles(db)) {
    known.add(file);
    known.add(`${file}.sha256`);
  }
  return candidates.filter((path) => {
    if (known.has(path)) return false;
    const name = path.slice(path.lastIndexOf(sep) + 1);
    const manifest = manifestPattern.exec(name);
    if (manifest && knownRuns.has(Number(manifest[1]))) return false;
    return true;
  });
}
