/**
 * What the commands that touch services share: the configuration (file, environment, flags),
 * the secrets to mask and to keep off every command line, a log to stderr and the day's log file, and SIGINT/SIGTERM turned into
 * an abort signal so children are stopped and temporary files removed.
 */
import { join } from 'node:path';
import { format } from 'date-fns/format';
import { BattError, collectSecrets, createLogger, guardSecrets, loadConfig, type BattConfig, type Logger } from '@batt/core';
import type { App } from '../app.js';
import { err } from '../output.js';

export async function loadAppConfig(app: App, args: { config?: string; quiet?: boolean }): Promise<BattConfig> {
  const config = await loadConfig({
    configFile: args.config,
    confDir: app.home.conf,
    cwd: process.cwd(),
    env: process.env,
    services: app.services.map((s) => ({ name: s.name, aliases: s.plugin?.aliases ?? [], keys: s.plugin?.configKeys })),
  });
  if (config.ignored && !args.quiet) {
    err`batt: warning: not reading ${config.ignored}: batt reads its configuration only from ${app.home.conf} or --config FILE (docs/security.md)\n`;
  }
  // From here on no child batt starts may carry one of these secrets in its argv (exec/guard.ts).
  guardSecrets(appSecrets(config));
  return config;
}

const secretsOf = new WeakMap<BattConfig, Set<string>>();

/** The secrets of a configuration (config/secrets.ts collectSecrets), gathered once: password files are read once a command. */
export function appSecrets(config: BattConfig): Set<string> {
  let secrets = secretsOf.get(config);
  if (!secrets) secretsOf.set(config, (secrets = collectSecrets(config, process.env)));
  return secrets;
}

/** Progress on stderr (errors only with --quiet, warnings and errors with --json) and the day's log file. */
export function openLog(app: App, args: { quiet: boolean; json: boolean }, secrets: Set<string>, clock = new Date()): Logger {
  return createLogger({
    console: args.quiet ? 'error' : args.json ? 'warn' : 'info',
    file: join(app.home.logs, `batt-${format(clock, 'yyyy-MM-dd')}.log`),
    secrets,
  });
}

/** Aborts `signal` on SIGINT/SIGTERM after saying `what` happens now; `release()` stops listening. */
export function onInterrupt(what: string): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const handler = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\nbatt: ${signal} received, stopping: ${what}\n`);
    controller.abort(new BattError('INTERRUPTED', `interrupted by ${signal}`));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    release() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
