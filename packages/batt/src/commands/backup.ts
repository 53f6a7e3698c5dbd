/**
 * `batt [services..] [--file PATH] [--<svc>-db NAME] [--path PATTERN]`: the original batt's
 * backup command. Services come from the positional names, from target options (which imply
 * their service), or else from scripts-enabled/.
 */
import { hostname, userInfo, availableParallelism } from 'node:os';
import {
  RunEvents,
  notifySkipped,
  describeError,
  BattError,
  clearScratch,
  closeCatalog,
  destinationRoots,
  finishInterruptedPrunes,
  ExitCode,
  defaultDestination,
  findService,
  markAbortedRuns,
  openCatalog,
  planBackup,
  runBackup,
  validatePattern,
  waitForLock,
  zstdAvailable,
  withServicePlaceholder,
  type BattConfig,
  type Compression,
  type Selection,
  type Service,
} from '@batt/core';
import type { App } from '../app.js';
import { appSecrets, loadAppConfig, onInterrupt, openLog } from './common.js';
import { colourStatus, err, humanBytes, out, printTable } from '../output.js';
import { showProgress } from '../progress.js';

export interface BackupArgs {
  services: string[];
  targets: Map<string, string[]>;
  path?: string;
  compression?: Compression;
  /** --compression-level: wins over compression_level in the config, top level and per service. */
  compressionLevel?: number;
  concurrency?: number;
  bundle?: boolean;
  /** A suspect backup exits 0 instead of 3. */
  suspectOk?: boolean;
  /** --metrics-file: wins over metrics_file in the config. */
  metricsFile?: string;
  /** --syslog: wins over log.syslog in the config. */
  syslog?: boolean;
  config?: string;
  json: boolean;
  quiet: boolean;
  version: string;
}

/** Which services to run, and with which targets; throws for unknown or missing services. */
export function selectServices(app: App, names: readonly string[], targets: Map<string, string[]>): Selection[] {
  const chosen = new Map<string, Selection>();
  const add = (service: Service, values: readonly string[]): void => {
    const existing = chosen.get(service.name) ?? { service, targets: [] };
    existing.targets.push(...values);
    chosen.set(service.name, existing);
  };
  for (const name of names) add(findService(app.services, name), []);
  for (const [serviceName, values] of targets) if (values.length) add(findService(app.services, serviceName), values);
  if (chosen.size === 0) {
    for (const service of app.services.filter((s) => s.enabled)) chosen.set(service.name, { service, targets: [], implicit: true });
    if (chosen.size === 0) {
      throw new BattError('USAGE', 'no service is enabled, and none was named', {
        hint: 'enable some (`batt enable file`) or name them (`batt file --file /etc`); `batt list` shows them all',
      });
    }
  }
  return [...chosen.values()];
}

/** gzip stops at level 9: say so before the run rather than fail every item. */
function checkGzipLevels(config: BattConfig, forced: Compression | undefined): void {
  const sections: [string, Record<string, unknown>][] = [['', config as unknown as Record<string, unknown>], ...Object.entries(config.services)];
  for (const [name, section] of sections) {
    const compression = forced ?? (section.compression as Compression | undefined) ?? config.compression ?? (zstdAvailable() ? 'zstd' : 'gzip');
    const level = (section.compression_level as number | undefined) ?? config.compression_level;
    if (compression === 'gzip' && level !== undefined && level > 9) {
      throw new BattError('CONFIG', `${name ? `${name}.` : ''}compression_level ${level} is too high for gzip`, { hint: 'gzip takes levels 1 to 9 (zstd takes 1 to 19)' });
    }
  }
}

export async function backupCommand(app: App, args: BackupArgs): Promise<number> {
  const selections = selectServices(app, args.services, args.targets);
  const config = await loadAppConfig(app, args);
  if (args.metricsFile !== undefined) config.metrics_file = args.metricsFile;
  if (args.syslog !== undefined) config.log = { ...config.log, syslog: args.syslog };
  if (args.compressionLevel !== undefined) {
    config.compression_level = args.compressionLevel;
    for (const section of Object.values(config.services)) delete section.compression_level;
  }
  const destination = args.path ?? config.destination ?? defaultDestination(app.home.root);
  validatePattern(withServicePlaceholder(destination));
  for (const s of Object.values(config.services)) if (typeof s.destination === 'string') validatePattern(s.destination);
  checkGzipLevels(config, args.compression);
  const secrets = appSecrets(config);

  const lock = await waitForLock(app.home.root, config.lock_wait ?? 0, (message) => {
    if (!args.quiet) err`batt: ${message}\n`;
  }).catch(async (error: unknown) => {
    // A run that cannot start is news too: it is told as a failure (healthchecks gets /75).
    if (error instanceof BattError && error.code === 'LOCKED') await notifySkipped({ config, host: hostname(), log: openLog(app, args, secrets), secrets }, describeError(error));
    throw error;
  });
  const interrupt = onInterrupt('running dumps are killed and their partial files removed');
  const listing = new AbortController();
  try {
    clearScratch(app.home.root);
    const clock = new Date();
    const log = openLog(app, args, secrets, clock);
    // Listed while the catalog opens: a database client starts now (runBackup waits for it).
    // A failure before the run takes the list stops the listing too (finally, below).
    const planned = planBackup({ config, selections, log, signal: AbortSignal.any([interrupt.signal, listing.signal]), home: app.home });
    const db = await openCatalog(app.home.catalog);
    try {
      markAbortedRuns(db);
      // A prune that died half way is finished before anything new is written beside its files.
      for (const done of await finishInterruptedPrunes(db, () => destinationRoots(db, config, defaultDestination(app.home.root)), config)) {
        log.warn(`finished prune ${done.id}, which was interrupted: ${done.removed} backups removed`);
        for (const file of done.refused) log.warn(`left ${file} in place: the catalog names it, but it is outside the backup folders this home knows`);
      }
      const events = new RunEvents(log);
      const stopProgress = showProgress(events, { json: args.json, quiet: args.quiet, tty: !!process.stderr.isTTY });
      const report = await runBackup({
        db,
        home: app.home,
        config,
        selections,
        destination,
        destinationForced: args.path !== undefined,
        secrets,
        compression: args.compression,
        bundle: args.bundle ?? config.bundle ?? false,
        concurrency: args.concurrency ?? config.concurrency ?? availableParallelism(),
        clock,
        host: hostname(),
        user: userInfo().username,
        battVersion: args.version,
        log,
        events,
        signal: interrupt.signal,
        planned,
      }).finally(stopProgress);
      const suspect = report.items.filter((i) => i.suspect).length;
      // The same word `batt runs` shows: a run whose backups were all written but one fell sharply.
      const shown = report.status === 'ok' && suspect ? 'suspect' : report.status;
      // The last of the JSON lines: the run's report, as the run-finished event.
      if (args.json) process.stdout.write(`${JSON.stringify({ type: 'run-finished', kind: 'backup', ...report, shown })}\n`);
      else if (!args.quiet) {
        printTable(
          ['STATUS', 'SERVICE', 'TARGET', 'SIZE', 'FILE / ERROR'],
          report.items.map((i) => [colourStatus(i.suspect ? 'suspect' : i.status), i.service, i.target, humanBytes(i.bytes), i.file ?? i.error ?? '']),
        );
        const ok = report.items.filter((i) => i.status === 'ok').length;
        out`run ${report.id}: ${colourStatus(shown)} (${ok}/${report.items.length} items ok${suspect ? `, ${suspect} suspect` : ''})\n`;
      }
      if (shown === 'suspect' && !args.json) {
        // An error-level line, so -q in cron still says it.
        const which = report.items
          .filter((i) => i.suspect)
          .map((i) => `${i.service} ${i.target}: ${i.suspect}`)
          .join('; ');
        err`batt: run ${report.id} is suspect: ${which}\nhint: check the source; \`batt show ${report.id}\` says why, \`batt accept ${report.id}\` takes it as the new normal${args.suspectOk ? '' : ' (exit 3; --suspect-ok exits 0)'}\n`;
      }
      if (report.status === 'aborted') return ExitCode.interrupted;
      if (report.status !== 'ok') return ExitCode.failed;
      return suspect && !args.suspectOk ? ExitCode.suspect : ExitCode.ok;
    } finally {
      closeCatalog(db);
    }
  } finally {
    listing.abort();
    interrupt.release();
    lock.release();
  }
}
