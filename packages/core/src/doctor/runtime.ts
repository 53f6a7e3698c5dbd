/**
 * What this Node gives batt (docs/benchmarks.md, "Node"): zstd inside node:zlib from 22.15 (else
 * the `zstd` binary), and the compile cache from 22.8, which bin/batt.js turns on. `batt doctor`
 * prints it, so a test on each Node can say which path that Node takes.
 */
import * as module from 'node:module';
import { nodeZstd } from '../pipeline/compress.js';

export interface Runtime {
  node: string;
  /** Where zstd runs: in this process (node:zlib) or in the `zstd` binary. */
  zstd: 'zlib' | 'binary';
  /** The compile cache's folder, or null when this Node has none (or it is off). */
  compileCache: string | null;
}

export function runtime(): Runtime {
  const cacheDir = (module as { getCompileCacheDir?: () => string | undefined }).getCompileCacheDir?.();
  return { node: process.version, zstd: nodeZstd() ? 'zlib' : 'binary', compileCache: cacheDir ?? null };
}

/** The doctor's line: the Node, and the path each fast path takes on it. */
export function runtimeDetail(r: Runtime = runtime()): string {
  const zstd = r.zstd === 'zlib' ? 'zstd in-process (node:zlib)' : 'zstd through the zstd binary (in-process from Node 22.15)';
  const cache = r.compileCache ? `compile cache in ${r.compileCache}` : 'no compile cache (from Node 22.8)';
  return `${r.node}: ${zstd}, ${cache}`;
}
