/**
 * `batt catalog rebuild`: a new catalog from the manifests (`batt-run-<id>.json`) beside the
 * backups, for when catalog.db was lost or damaged. Runs keep their ids (artifact names carry
 * them); an item comes back only if its file is there with the manifest's size (and SHA-256,
 * unless `quick`). The new catalog is built beside the old one and swapped in; the old one is
 * kept as `catalog.db.bak-<time>`. Verify/restore history lives only in the catalog: it is lost.
 */
import { existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openCatalog } from './db.js';
import { hashFile } from '../pipeline/hashing-file-sink.js';
import { manifestPattern, parseSumLine } from '../run/manifest.js';
import { walkFiles } from '../retention/folders.js';
import type { ManifestItem, ManifestRun } from '../run/manifest.js';

export interface RebuildReport {
  runs: number;
  items: number;
  bundles: number;
  /** Manifest entries left out, and why. */
  skipped: { file: string; why: string }[];
  /** Where the previous catalog went, if there was one. */
  previous?: string;
}

interface Found {
  run: ManifestRun;
  modified: string;
  items: (ManifestItem & { name: string; path: string })[];
}

/**
 * Every manifest under `folders`, merged by run (a run writes one per folder it used). A run is
 * its id, start time and host together: an older catalog's run 7 and this one's stay apart, and
 * manifests of other hosts (a shared disk) are left out unless `host` is undefined.
 */
function scan(folders: readonly string[], host: string | undefined, skipped: RebuildReport['skipped']): { runs: Map<string, Found>; bundles: Map<number, string> } {
  const runs = new Map<string, Found>();
  const bundles = new Map<number, string>();
  const read = (path: string, name: string): void => {
    const bundle = /^batt-run-(\d+)\.tar$/.exec(name);
    if (bundle) bundles.set(Number(bundle[1]), path);
    if (!manifestPattern.test(name)) return;
    const dir = dirname(path);
    try {
      const m = JSON.parse(readFileSync(path, 'utf8')) as { batt?: { manifestVersion?: number }; run?: ManifestRun; items?: (ManifestItem & { name: string })[] };
      if (m.batt?.manifestVersion !== 1 || !m.run || !Number.isInteger(m.run.id) || !Array.isArray(m.items)) throw new Error('not a batt manifest (version 1)');
      if (host !== undefined && m.run.host !== host) {
        skipped.push({ file: path, why: `run ${m.run.id} was made on host ${m.run.host}, not ${host} (--any-host takes it in)` });
        return;
      }
      const key = `${m.run.id}\0${m.run.startedAt}\0${m.run.host}`;
      const found = runs.get(key) ?? { run: m.run, modified: statSync(path).mtime.toISOString(), items: [] };
      found.items.push(...m.items.map((i) => ({ ...i, path: join(dir, i.name) })));
      runs.set(key, found);
    } catch (error) {
      skipped.push({ file: path, why: `unreadable manifest: ${(error as Error).message}` });
    }
  };
  for (const f of folders) walkFiles(f, read, true);
  return { runs, bundles };
}

export async function rebuildCatalog(catalogPath: string, folders: readonly string[], options: { quick: boolean; host?: string; onRun?: (id: number) => void }): Promise<RebuildReport> {
  const report: RebuildReport = { runs: 0, items: 0, bundles: 0, skipped: [] };
  const { runs, bundles } = scan(folders, options.host, report.skipped);
  const temp = `${catalogPath}.rebuild-${process.pid}`;
  for (const suffix of ['', '-wal', '-shm']) rmSync(temp + suffix, { force: true });
  const db = await openCatalog(temp);
  try {
    const client = db.$client;
    const insertRun = client.prepare("insert into runs (id, started_at, finished_at, status, host, user, destination, services, pid, bundle_file, bundle_bytes, bundle_sha256) values (?, ?, ?, 'ok', ?, ?, ?, ?, 0, ?, ?, ?)");
    const insertItem = client.prepare("insert into items (run_id, service, target, file, bytes, sha256, compression, started_at, finished_at, status, tool_version, server_version, facts) values (?, ?, ?, ?, ?, ?, ?, ?, ?, 'ok', ?, ?, ?)");
    const seen = new Set<string>();
    // Oldest first; a run whose id an older run already took gets a new id after all of them.
    const ordered = [...runs.values()].sort((a, b) => a.run.startedAt.localeCompare(b.run.startedAt) || a.run.id - b.run.id);
    const taken = new Set<number>();
    const first = ordered.filter((f) => !taken.has(f.run.id) && taken.add(f.run.id));
    const renumbered = ordered.filter((f) => !first.includes(f));
    for (const found of [...first, ...renumbered]) {
      const id = first.includes(found) ? found.run.id : null;
      options.onRun?.(found.run.id);
      const good: Found['items'] = [];
      for (const item of found.items) {
        if (seen.has(item.path)) continue;
        seen.add(item.path);
        if (!existsSync(item.path)) {
          report.skipped.push({ file: item.path, why: `run ${found.run.id}: the file is gone` });
          continue;
        }
        const size = statSync(item.path).size;
        if (size !== item.bytes) {
          report.skipped.push({ file: item.path, why: `run ${found.run.id}: ${size} bytes on disk, ${item.bytes} in the manifest` });
          continue;
        }
        if (!options.quick && (await hashFile(item.path)).sha256 !== item.sha256) {
          report.skipped.push({ file: item.path, why: `run ${found.run.id}: SHA-256 differs from the manifest` });
          continue;
        }
        good.push(item);
      }
      if (good.length === 0) continue;
      // A bundle is only known by its run id: it goes with the run that kept its id.
      const bundle = id === null ? undefined : bundles.get(id);
      const bundleSum = bundle && existsSync(`${bundle}.sha256`) ? parseSumLine(readFileSync(`${bundle}.sha256`, 'utf8').split('\n')[0])?.sha256 : undefined;
      client.transaction(() => {
        const r = found.run;
        const runId = Number(insertRun.run(id, r.startedAt, found.modified, r.host, r.user, r.destination, [...new Set(good.map((i) => i.service))].join(','),
          bundleSum ? bundle : null, bundleSum ? statSync(bundle!).size : null, bundleSum ?? null).lastInsertRowid);
        for (const i of good) {
          insertItem.run(runId, i.service, i.target, i.path, i.bytes, i.sha256, i.compression, r.startedAt, found.modified, i.toolVersion ?? null, i.serverVersion ?? null, i.facts === undefined ? null : JSON.stringify(i.facts));
        }
      })();
      report.runs++;
      report.items += good.length;
      if (bundleSum) report.bundles++;
    }
  } catch (error) {
    db.$client.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(temp + suffix, { force: true });
    throw error;
  }
  db.$client.pragma('wal_checkpoint(TRUNCATE)');
  db.$client.close();
  if (existsSync(catalogPath)) {
    // Never over an earlier backup of the catalog (two rebuilds within one second).
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
    report.previous = `${catalogPath}.bak-${stamp}`;
    for (let n = 2; existsSync(report.previous); n++) report.previous = `${catalogPath}.bak-${stamp}-${n}`;
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(catalogPath + suffix)) renameSync(catalogPath + suffix, report.previous + suffix);
  }
  for (const suffix of ['-wal', '-shm']) rmSync(temp + suffix, { force: true });
  renameSync(temp, catalogPath);
  return report;
}
