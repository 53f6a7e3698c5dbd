/**
 * `batt doctor`: the checks of core/doctor, printed one line each (✓ or ✗, the fix under a
 * failure), or as a JSON array. Exit 1 when any failed; a configuration that cannot be read is
 * one failed line, not the end of the checks.
 */
import { hostname } from 'node:os';
import chalk from 'chalk';
import { BattError, createLogger, ExitCode, findService, runDoctor, type BattConfig, type DoctorLine } from '@batt/core';
import type { App } from '../app.js';
import { appSecrets, loadAppConfig, onInterrupt } from './common.js';
import { out, printJson, Safe } from '../output.js';

export interface DoctorArgs {
  services: string[];
  config?: string;
  json: boolean;
  quiet: boolean;
}

export async function doctorCommand(app: App, args: DoctorArgs): Promise<number> {
  const named = args.services.map((name) => findService(app.services, name));
  const services = named.length ? [...new Set(named)] : app.services.filter((s) => s.enabled);
  let config: BattConfig | { error: unknown };
  try {
    config = await loadAppConfig(app, { config: args.config, quiet: true });
  } catch (error) {
    if (!(error instanceof BattError)) throw error;
    config = { error };
  }
  const secrets = appSecrets('error' in config ? { services: {}, files: [] } : config);
  const interrupt = onInterrupt('the running checks are stopped');
  let lines: DoctorLine[];
  try {
    lines = await runDoctor({
      home: app.home,
      services,
      config,
      secrets,
      log: createLogger({ console: 'none', secrets }),
      signal: interrupt.signal,
      host: hostname(),
      clock: new Date(),
    });
  } finally {
    interrupt.release();
  }
  if (interrupt.signal.aborted) throw interrupt.signal.reason;
  const failed = lines.filter((l) => !l.ok);
  if (args.json) printJson(lines.map((l) => ({ ...(l.service ? { service: l.service } : {}), check: l.name, ok: l.ok, detail: l.detail, fix: l.fix ?? null })));
  else {
    for (const l of args.quiet ? failed : lines) {
      const mark = new Safe(l.ok ? chalk.green('✓') : chalk.red('✗'));
      out`${mark} ${l.service ? `${l.service} ` : ''}${l.name}: ${l.detail}\n`;
      if (!l.ok && l.fix) out`    fix: ${l.fix}\n`;
    }
    if (!args.quiet) out`${failed.length ? `${failed.length} of ${lines.length} checks failed` : `all ${lines.length} checks passed`}\n`;
  }
  return failed.length ? ExitCode.failed : ExitCode.ok;
}
