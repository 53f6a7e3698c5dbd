/**
 * What this Node gives batt (docs/benchmarks.md, "Node"): zstd through the `zstd` binary, else
 * inside node:zlib from 22.15 (pipeline/compress.ts says why in that order), and the compile
 * cache from 22.8, which bin/batt.js turns on. `batt doctor` prints it, so a test on each Node
 * can say which path that Node takes.
 */
import * as module from 'node:module';
import { nodeZstd, zstdRunner } from '../pipeline/compress.js';

export interface Runtime {
  node: string;
  /** Where zstd runs: the `zstd` binary, this process (node:zlib), or nowhere (gzip is used). */
  zstd: 'binary' | 'zlib' | 'none';
  /** Whether this Node's zlib has zstd (22.15+). */
  nodeZstd: boolean;
  /** The compile cache's folder, or null when this Node has none (or it is off). */
  compileCache: string | null;
}

export function runtime(env: NodeJS.ProcessEnv = process.env): Runtime {
  const cacheDir = (module as { getCompileCacheDir?: () => string | undefined }).getCompileCacheDir?.();
  return { node: process.version, zstd: zstdRunner(env) ?? 'none', nodeZstd: Boolean(nodeZstd()), compileCache: cacheDir ?? null };
}

/** The doctor's line: the Node, and the path each fast path takes on it. */
export function runtimeDetail(r: Runtime = runtime()): string {
  const fallback = r.nodeZstd ? 'in-process without it' : 'no in-process zstd before Node 22.15';
  const zstd =
    r.zstd === 'binary'
      ? `zstd through the zstd binary (-T0; ${fallback})`
      : r.zstd === 'zlib'
        ? 'zstd in-process (node:zlib, one thread: install zstd for all cores)'
        : 'no zstd: gzip instead (install zstd)';
  const cache = r.compileCache ? `compile cache in ${r.compileCache}` : 'no compile cache (from Node 22.8)';
  return `${r.node}: ${zstd}, ${cache}`;
}
