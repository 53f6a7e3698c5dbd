/**
 * `batt restore` and `batt verify`: the plan and results for people, or JSON for scripts.
 * Both stop cleanly on SIGINT/SIGTERM (children killed, scratch targets removed).
 */
import { join } from 'node:path';
import { format } from 'date-fns/format';
import {
  collectSecrets, createLogger, ExitCode, loadConfig, openCatalog, restoreItems, verifyItems, BattError,
  type Check, type PlannedRestore, type BattConfig,
} from '@batt/core';
import type { App } from '../app.js';
import { colourStatus, humanBytes, printJson } from '../output.js';

interface Common {
  config?: string;
  json: boolean;
  quiet: boolean;
}

export interface RestoreArgs extends Common {
  ref: string;
  service?: string;
  targets: string[];
  into?: string;
  to?: string;
  force: boolean;
  replace: boolean;
  dryRun: boolean;
  jobs: number;
  redisDbs: string[];
}

export interface VerifyArgs extends Common {
  ref?: string;
  all: boolean;
  since?: Date;
  service?: string;
  targets: string[];
  restoreTest: boolean;
}

async function setUp(app: App, args: Common, extra: (config: BattConfig) => void = () => {}) {
  const config = await loadConfig({
    configFile: args.config, confDir: app.home.conf, cwd: process.cwd(), env: process.env,
    services: app.services.map((s) => ({ name: s.name, aliases: s.plugin?.aliases ?? [], keys: s.plugin?.configKeys })),
  });
  extra(config);
  const secrets = collectSecrets(config, process.env);
  const log = createLogger({
    console: args.quiet ? 'none' : args.json ? 'warn' : 'info',
    file: join(app.home.logs, `batt-${format(new Date(), 'yyyy-MM-dd')}.log`),
    secrets,
  });
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\nbatt: ${signal} received, stopping\n`);
    controller.abort(new BattError('INTERRUPTED', `interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const db = await openCatalog(app.home.catalog);
  return {
    config, secrets, log, db, signal: controller.signal,
    close(): void {
      db.$client.close();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

const actionText: Record<PlannedRestore['action'], string> = {
  create: 'new',
  replace: 'REPLACES the existing one',
  swap: 'restored beside it, checked, then swapped in',
  script: 'by the restore script',
};

function printChecks(checks: readonly Check[]): void {
  for (const c of checks) process.stdout.write(`      ${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}\n`);
}

export async function restoreCommand(app: App, args: RestoreArgs): Promise<number> {
  const env = await setUp(app, args, (config) => {
    if (args.redisDbs.length) config.services.redis = { ...config.services.redis, restore_dbs: args.redisDbs };
  });
  try {
    const outcomes = await restoreItems({
      db: env.db, home: app.home, config: env.config, services: app.services,
      ref: args.ref, service: args.service, targets: args.targets, into: args.into, to: args.to,
      force: args.force, replace: args.replace, dryRun: args.dryRun, jobs: args.jobs,
      log: env.log, secrets: env.secrets, signal: env.signal,
      onPlan(plan) {
        if (args.json) return;
        process.stdout.write(`restore plan${args.dryRun ? ' (dry run: nothing will be changed)' : ''}:\n`);
        for (const p of plan) {
          process.stdout.write(`  ${p.service} ${p.target}  (run ${p.runId}) → ${p.label}  [${p.exists && p.action === 'replace' && !args.force ? 'EXISTS: needs --force' : actionText[p.action]}]\n`);
          process.stdout.write(`      from ${p.file}  ${humanBytes(p.bytes ?? 0)}  sha256 ${p.sha256?.slice(0, 16) ?? '?'}… verified\n`);
          if (p.toolVersion || p.serverVersion) process.stdout.write(`      made by ${p.toolVersion ?? 'unknown tool'}${p.serverVersion ? ` from server ${p.serverVersion}` : ''}\n`);
        }
      },
    });
    if (args.json) printJson(outcomes);
    else if (!args.dryRun) {
      process.stdout.write('\n');
      for (const o of outcomes) {
        process.stdout.write(`${colourStatus(o.status)}  ${o.service} ${o.target} → ${o.label}\n`);
        printChecks(o.checks);
        if (o.error) process.stdout.write(`      error: ${o.error}\n`);
      }
    }
    if (env.signal.aborted) return ExitCode.interrupted;
    return outcomes.every((o) => o.status !== 'failed') ? ExitCode.ok : ExitCode.failed;
  } finally {
    env.close();
  }
}

export async function verifyCommand(app: App, args: VerifyArgs): Promise<number> {
  const env = await setUp(app, args);
  try {
    const outcomes = await verifyItems({
      db: env.db, home: app.home, config: env.config, services: app.services,
      ref: args.ref, all: args.all, since: args.since, service: args.service, targets: args.targets, restoreTest: args.restoreTest,
      log: env.log, secrets: env.secrets, signal: env.signal,
    });
    if (args.json) printJson(outcomes);
    else {
      for (const o of outcomes) {
        process.stdout.write(`${colourStatus(o.ok ? 'ok' : 'failed')}  ${o.kind === 'verify' ? 'verify' : 'drill '}  run ${o.runId}  ${o.service} ${o.target}\n`);
        printChecks(o.checks);
        if (o.error) process.stdout.write(`      error: ${o.error}\n`);
      }
      const bad = outcomes.filter((o) => !o.ok).length;
      process.stdout.write(`${outcomes.length - bad}/${outcomes.length} checks passed\n`);
    }
    if (env.signal.aborted) return ExitCode.interrupted;
    return outcomes.every((o) => o.ok) ? ExitCode.ok : ExitCode.failed;
  } finally {
    env.close();
  }
}
