/**
 * `batt restore` and `batt verify`: the plan and results for people, or JSON for scripts.
 * Both stop cleanly on SIGINT/SIGTERM (children killed, scratch targets removed).
 */
import { counted } from '@batt/core/restore/select';
import {
  closeCatalog,
  defaultDestination,
  destinationRoots,
  ExitCode,
  openCatalog,
  restoreItems,
  verifyItems,
  type BattConfig,
  type Check,
  type PlannedRestore,
  type RestoreRequest,
  type VerifyRequest,
} from '@batt/core';
import type { App } from '../app.js';
import { appSecrets, loadAppConfig, onInterrupt, openLog } from './common.js';
import { colourStatus, humanBytes, out, printJson, shortVersion, text } from '../output.js';

interface Common {
  config?: string;
  json: boolean;
  quiet: boolean;
}

export type RestoreArgs = Common &
  Pick<RestoreRequest, 'service' | 'into' | 'to' | 'force' | 'replace' | 'dryRun' | 'jobs' | 'identityFile' | 'from'> & {
    ref: string;
    targets: string[];
    /** --redis-db: only these logical databases. */
    redisDbs: string[];
  };

export type VerifyArgs = Common &
  Pick<VerifyRequest, 'ref' | 'all' | 'since' | 'service' | 'restoreTest' | 'identityFile' | 'from'> & {
    targets: string[];
    /** --metrics-file: wins over metrics_file in the config. */
    metricsFile?: string;
  };

async function setUp(app: App, args: Common, adjust: (config: BattConfig) => void) {
  const config = await loadAppConfig(app, args);
  adjust(config);
  const secrets = appSecrets(config);
  const interrupt = onInterrupt('running tools are killed and scratch targets removed');
  const db = await openCatalog(app.home.catalog);
  // A catalog path outside these is never read or restored (docs/security.md).
  const roots = destinationRoots(db, config, defaultDestination(app.home.root));
  return {
    db,
    home: app.home,
    config,
    services: app.services,
    secrets,
    log: openLog(app, args, secrets),
    signal: interrupt.signal,
    roots,
    close(): void {
      closeCatalog(db);
      interrupt.release();
    },
  };
}

type Env = Awaited<ReturnType<typeof setUp>>;

const actionText: Record<PlannedRestore['action'], string> = {
  create: 'new',
  replace: 'REPLACES the existing one',
  swap: 'restored beside it, checked, then swapped in',
  script: 'by the restore script',
};

function printChecks(checks: readonly Check[]): void {
  for (const c of checks) out`      ${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}\n`;
}

/**
 * Sets up (`adjust` changes the loaded config), runs `work`, prints its outcomes as JSON or with
 * `print` (not with --quiet), and maps them to the exit code: interrupted, every one `passed`, or not.
 */
async function run<T>(
  app: App,
  args: Common,
  adjust: (config: BattConfig) => void,
  work: (env: Env) => Promise<T[]>,
  passed: (outcome: T) => boolean,
  print: (outcomes: T[]) => void,
): Promise<number> {
  const env = await setUp(app, args, adjust);
  try {
    const outcomes = await work(env);
    if (args.json) printJson(outcomes);
    else if (!args.quiet) print(outcomes);
    if (env.signal.aborted) return ExitCode.interrupted;
    return outcomes.every(passed) ? ExitCode.ok : ExitCode.failed;
  } finally {
    env.close();
  }
}

export function restoreCommand(app: App, args: RestoreArgs): Promise<number> {
  const adjust = (config: BattConfig): void => {
    if (args.redisDbs.length) config.services.redis = { ...config.services.redis, restore_dbs: args.redisDbs };
  };
  const work = (env: Env) =>
    restoreItems({
      ...env,
      ref: args.ref,
      service: args.service,
      targets: args.targets,
      into: args.into,
      to: args.to,
      force: args.force,
      replace: args.replace,
      dryRun: args.dryRun,
      jobs: args.jobs,
      identityFile: args.identityFile,
      from: args.from,
      onPlan(plan) {
        if (args.json || args.quiet) return;
        out`restore plan${args.dryRun ? ' (dry run: nothing will be changed)' : ''}:\n`;
        for (const p of plan) {
          out`  ${p.service} ${p.target}  (run ${p.runId}) → ${p.label}  [${p.exists && p.action === 'replace' && !args.force ? 'EXISTS: needs --force' : actionText[p.action]}]\n`;
          out`      from ${p.from ? text`${p.from.storage}: ${p.from.key}` : p.file}  ${humanBytes(p.bytes ?? 0)}  sha256 ${p.sha256?.slice(0, 16) ?? '?'}… verified\n`;
          if (p.toolVersion || p.serverVersion)
            out`      made by ${p.toolVersion ? shortVersion(p.toolVersion) : 'unknown tool'}${p.serverVersion ? text` from server ${shortVersion(p.serverVersion)}` : ''}\n`;
        }
      },
    });
  return run(
    app,
    args,
    adjust,
    work,
    (o) => o.status !== 'failed',
    (outcomes) => {
      if (args.dryRun) return;
      out`\n`;
      for (const o of outcomes) {
        out`${colourStatus(o.status)}  ${o.service} ${o.target} → ${o.label}\n`;
        printChecks(o.checks);
        if (o.error) out`      error: ${o.error}\n`;
      }
    },
  );
}

export function verifyCommand(app: App, args: VerifyArgs): Promise<number> {
  const adjust = (config: BattConfig): void => {
    if (args.metricsFile !== undefined) config.metrics_file = args.metricsFile;
  };
  const work = (env: Env) =>
    verifyItems({
      ...env,
      ref: args.ref,
      all: args.all,
      since: args.since,
      service: args.service,
      targets: args.targets,
      restoreTest: args.restoreTest,
      identityFile: args.identityFile,
      from: args.from,
    });
  return run(
    app,
    args,
    adjust,
    work,
    (o) => o.ok,
    (outcomes) => {
      for (const o of outcomes) {
        out`${colourStatus(o.ok ? 'ok' : 'failed')}  ${o.kind === 'verify' ? 'verify' : 'drill '}  run ${o.runId}  ${o.service} ${o.target}\n`;
        printChecks(o.checks);
        if (o.error) out`      error: ${o.error}\n`;
      }
      // One line per kind: how many backups passed, out of how many, and how many checks that took.
      for (const kind of ['verify', 'restore-test'] as const) {
        const of = outcomes.filter((o) => o.kind === kind);
        if (of.length === 0) continue;
        const bad = of.filter((o) => !o.ok).length;
        const checks = of.reduce((n, o) => n + o.checks.length, 0);
        out`${kind === 'verify' ? 'verify' : 'restore drill'}: ${of.length - bad} of ${counted(of.length, 'backup')} passed${bad ? `, ${bad} failed` : ''} (${counted(checks, 'check')})\n`;
      }
    },
  );
}
