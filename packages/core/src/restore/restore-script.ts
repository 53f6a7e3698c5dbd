/**
 * A drop-in service's restore: `restore-<svc>` runs once for a run's files, which it finds in
 * BATT_SOURCE (docs/scripts.md, "Restore scripts").
 */
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { BattError } from '../errors/errors.js';
import { collect, spawnTool, stderrText, toolFailure } from '../exec/exec.js';
import { privateScratch } from '../home/home.js';
import { assertTrusted } from '../home/trust.js';
import { redact } from '../log/logger.js';
import type { Service } from '../plugins/discovery.js';
import { scriptConfFile, scriptEnv } from '../plugins/scripts.js';
import type { Check } from '../plugins/types.js';
import { restoreScriptOf, type PlannedRestore } from './plan.js';
import type { RestoreRequest } from './restore-run.js';

/** Runs restore-<svc> with BATT_SOURCE: a private folder holding links to the run's files. */
export async function restoreWithScript(request: RestoreRequest, service: Service, group: PlannedRestore[]): Promise<{ checks: Check[] }> {
  const script = restoreScriptOf(request.home, service)!;
  assertTrusted(script, 'a script batt runs');
  const source = privateScratch(request.home.root, 'source-');
  try {
    for (const p of group) {
      const link = join(source, p.target);
      // The name comes from the catalog: it must stay inside BATT_SOURCE.
      if (relative(source, link).startsWith('..') || isAbsolute(p.target))
        throw new BattError('INTEGRITY', `the catalog names a file "${p.target}" outside the backup folder`, { hint: 'the catalog was changed; restore that file by hand' });
      mkdirSync(dirname(link), { recursive: true, mode: 0o700 });
      symlinkSync(p.file, link);
    }
    const conf = scriptConfFile(request.home.conf, service.name);
    const child = await spawnTool(script, request.targets ?? [], {
      cwd: source,
      signal: request.signal,
      service: service.name,
      env: {
        ...scriptEnv(service.name),
        BATT_SOURCE: source,
        BATT_SERVICE: service.name,
        BATT_RUN_ID: String(group[0].runId),
        BATT_HOME: request.home.root,
        ...(conf ? { BATT_CONF: conf } : {}),
        ...((request.to ?? request.into) ? { BATT_INTO: request.to ?? request.into } : {}),
        ...(request.force ? { BATT_FORCE: '1' } : {}),
      },
    });
    const [out, result] = await Promise.all([collect(child.stdout, 64 * 1024), child.result]);
    const log = redact([stderrText(result), out.trim()].filter(Boolean).join('\n'), request.secrets);
    if (result.failed) throw Object.assign(toolFailure(`restore-${service.name}`, result), { log });
    return { checks: [{ name: 'script', ok: true, detail: `restore-${service.name} exited 0${log ? `: ${log.split('\n').slice(-3).join(' | ')}` : ''}` }] };
  } finally {
    rmSync(source, { recursive: true, force: true });
  }
}
