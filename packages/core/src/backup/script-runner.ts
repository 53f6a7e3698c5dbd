/**
 * Runs a drop-in `backup-<name>` script under the protocol of docs/scripts.md. The script gets a
 * private staging folder as BATT_DEST and writes `$BATT_DEST/<name>/…` exactly as scripts for
 * the original batt do. Only when it exits 0 are its files hashed, fsynced and moved to the
 * real destination (never over an existing file); on failure the staging folder is removed.
 */
import { existsSync, mkdtempSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { chmod, open } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { BattError } from '../errors/errors.js';
import { collect, spawnTool, stderrText, toolFailure } from '../exec/exec.js';
import { makePrivateDir, makeTrustedDir } from '../home/home.js';
import { assertTrusted } from '../home/trust.js';
import { localStorage } from '../storage/local.js';
import { hashFile } from '../pipeline/hash.js';
import type { Service } from '../plugins/discovery.js';
import { scriptConfFile, scriptEnv, splitName } from '../plugins/scripts.js';

export interface ScriptRequest {
  service: Service;
  args: readonly string[];
  /** The expanded destination folder of this service. */
  dest: string;
  runId: number;
  home: string;
  confDir: string;
  signal: AbortSignal;
}

export interface ScriptArtifact {
  /** Path as the script wrote it, relative to `$BATT_DEST/<name>/`, e.g. `wordpress.sql.gz`. */
  name: string;
  path: string;
  bytes: number;
  sha256: string;
}

export interface ScriptResult {
  artifacts: ScriptArtifact[];
  log: string;
}

function listFiles(dir: string): { files: string[]; others: string[] } {
  const files: string[] = [];
  const others: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
    if (entry.isFile()) files.push(path);
    else if (!entry.isDirectory()) others.push(path);
  }
  return { files: files.sort(), others };
}

function rmdirIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty, or already gone
  }
}

async function hashAndSync(path: string): Promise<{ bytes: number; sha256: string }> {
  const hashed = await hashFile(path);
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await chmod(path, 0o600);
  return hashed;
}

export async function runScript(request: ScriptRequest): Promise<ScriptResult> {
  const name = request.service.name;
  assertTrusted(request.service.path, 'a script batt runs');
  const destExisted = existsSync(request.dest);
  makeTrustedDir(request.dest);
  // The pid in the name: what a batt that died left here is removed by the next run (clearDeadTemps).
  const staging = mkdtempSync(join(request.dest, `.batt-staging-${process.pid}-`));
  let placed = false;
  try {
    makePrivateDir(join(staging, name));
    const conf = scriptConfFile(request.confDir, name);
    const child = await spawnTool(request.service.path, request.args, {
      cwd: staging,
      stdout: 'pipe',
      signal: request.signal,
      service: name,
      env: {
        ...scriptEnv(name),
        BATT_DEST: staging,
        BATT_SERVICE: name,
        BATT_RUN_ID: String(request.runId),
        BATT_HOME: request.home,
        ...(conf ? { BATT_CONF: conf } : {}),
      },
    });
    const [stdout, result] = await Promise.all([collect(child.stdout, 64 * 1024), child.result]);
    const log = [stderrText(result), stdout.trim()].filter(Boolean).join('\n');
    if (result.failed) {
      const failure = toolFailure(`backup-${name}`, result);
      throw Object.assign(failure, { log });
    }
    const { files, others } = listFiles(staging);
    if (files.length === 0) {
      throw Object.assign(
        new BattError('TOOL_FAILED', `backup-${name} exited 0 but wrote no files`, {
          hint: `a drop-in script must write its backup under $BATT_DEST/${name}/`,
        }),
        { log },
      );
    }
    const hashed = await Promise.all(files.map(async (path) => ({ path, ...(await hashAndSync(path)) })));
    const artifacts: ScriptArtifact[] = [];
    for (const file of hashed) {
      let rel = relative(staging, file.path);
      if (rel.startsWith(name + sep)) rel = rel.slice(name.length + 1);
      const targetDir = join(request.dest, dirname(rel));
      makePrivateDir(targetDir);
      const [base, ext] = splitName(basename(rel));
      const finalPath = await localStorage.place(file.path, targetDir, base, ext, `run${request.runId}`);
      artifacts.push({ name: rel, path: finalPath, bytes: file.bytes, sha256: file.sha256 });
    }
    placed = true;
    const warnings = others.length ? `\nignored ${others.length} non-regular file(s): ${others.map((o) => relative(staging, o)).join(', ')}` : '';
    return { artifacts, log: log + warnings };
  } finally {
    rmSync(staging, { recursive: true, force: true });
    // A failed script leaves no trace: not even the empty folder batt made for it.
    if (!placed && !destExisted) rmdirIfEmpty(request.dest);
  }
}
