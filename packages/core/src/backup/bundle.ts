/**
 * `--bundle` (seed 000, matiri): besides its artifacts, a run is written as one tar, with a
 * `sha256sum`-checkable `.sha256` file beside it. The tar holds the artifacts and the run's
 * manifests under their paths relative to the bundle's folder, and goes through the same
 * atomic, hashing pipeline as every artifact.
 */
import { basename, relative, sep } from 'node:path';
import { expandPattern } from '../destination/expand.js';
import { toolFailure } from '../exec/exec.js';
import { writeArtifact } from '../pipeline/artifact.js';
import { sumLine, writeAtomic } from '../manifest/manifest.js';
import { localStorage } from '../storage/local.js';

export interface Bundle {
  path: string;
  bytes: number;
  sha256: string;
}

/** Where a run's bundle goes: the pattern expanded up to (not including) its `{service}` folder. */
export function bundleFolder(pattern: string, clock: Date, host: string): string {
  const parts = pattern.split('/');
  return expandPattern(
    parts
      .slice(
        0,
        parts.findIndex((p) => p.includes('{service}')),
      )
      .join('/') || '/',
    clock,
    { service: '', host },
  );
}

/**
 * Writes `batt-run-<id>.tar` into `dir` (under the destination's root, where check, prune and
 * rebuild look). Entries are relative to `dir`; if a service wrote elsewhere (its own
 * destination), every entry is the full path instead, without the leading `/`. Throws if tar
 * fails; nothing is left under the final name then.
 */
export async function writeBundle(runId: number, files: readonly string[], dir: string, signal: AbortSignal): Promise<Bundle> {
  const base = files.every((f) => f.startsWith(dir + sep)) ? dir : '/';
  const artifact = await writeArtifact({
    dump: {
      command: 'tar',
      // Names are relative (`./…`) and follow `--`, so none is read as an option.
      args: ['-cf', '-', '-C', base, '--', ...files.map((f) => (base === '/' ? `.${f}` : relative(base, f)))],
      debianPackage: 'tar',
      finish(result) {
        if (result.failed) throw toolFailure('tar', result, 'tar');
        return {};
      },
    },
    dir,
    base: `batt-run-${runId}`,
    ext: '.tar',
    compression: 'none',
    uniqueSuffix: `run${runId}`,
    signal,
  });
  try {
    await writeAtomic(`${artifact.path}.sha256`, `${sumLine(artifact.sha256, basename(artifact.path))}\n`);
  } catch (error) {
    // A bundle without its .sha256 is not one: no finished-looking tar stays behind.
    await localStorage.delete(artifact.path).catch(() => false);
    throw error;
  }
  return { path: artifact.path, bytes: artifact.bytes, sha256: artifact.sha256 };
}
