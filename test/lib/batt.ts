/**
 * Test helpers: run the built `batt` binary in a private temporary home, and make folders.
 * Every test gets its own home and destination, so tests can run in parallel.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa, type Options } from 'execa';

export const repoRoot = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..', '..');
export const battBin = join(repoRoot, 'packages', 'batt', 'bin', 'batt.js');

export interface Sandbox {
  dir: string;
  home: string;
  out: string;
  batt(args: readonly string[], options?: Options): Promise<BattResult>;
  /** Makes `dir/name` holding the given files (name → content) and returns its path. */
  folder(name: string, files: Record<string, string>): string;
  cleanup(): void;
}

export interface BattResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export function sandbox(): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'batt-test-'));
  const home = join(dir, 'home');
  const out = join(dir, 'out');
  return {
    dir,
    home,
    out,
    async batt(args, options = {}) {
      const result = await execa(process.execPath, [battBin, '--home', home, ...args], {
        reject: false,
        cwd: dir,
        extendEnv: true,
        timeout: 120_000,
        ...options,
        env: { NO_COLOR: '1', FORCE_COLOR: '0', TZ: 'UTC', ...(options.env as Record<string, string> | undefined) },
      });
      return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
    },
    folder(name, files) {
      const path = join(dir, name);
      mkdirSync(path, { recursive: true });
      for (const [file, content] of Object.entries(files)) writeFileSync(join(path, file), content);
      return path;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Parses `--json` output, failing with the whole output when it is not JSON. */
export function json<T = any>(result: BattResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${result.exitCode}):\n${result.stdout}\n${result.stderr}`);
  }
}
