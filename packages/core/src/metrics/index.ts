/**
 * The metrics file (`metrics_file:` or `--metrics-file`, docs/metrics.md): a Prometheus textfile
 * for node_exporter's textfile collector, rewritten from the catalog after every backup and verify
 * run, so it covers every service and target this home backs up, not only the run's. It is written
 * under a temporary name beside it and renamed, so the collector never reads half a file.
 */
import { chmodSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { CatalogDb } from '../catalog/db.js';
import { newestChecks, newestFinishedRun, targetMetrics } from '../catalog/metrics.js';
import type { BattConfig } from '../config/load.js';
import { describeError } from '../errors/errors.js';
import type { RunEvents } from '../events/events.js';
import { redact, type Logger } from '../log/logger.js';
import { exposition, type Family, type Sample } from './textfile.js';

/** The statuses batt_last_run_status has a series for: a run's, or `suspect` for an ok run with a suspect backup. */
export const shownStatuses = ['ok', 'suspect', 'partial', 'failed', 'aborted'] as const;

const seconds = (iso: string | null | undefined): number | undefined => (iso ? Date.parse(iso) / 1000 : undefined);

/** The metrics the catalog holds now; `secrets` are masked in label values. */
export function metricsOf(db: CatalogDb, secrets: Iterable<string> = []): Family[] {
  const list = [...secrets];
  const family = (name: string, help: string, samples: (Sample | undefined)[]): Family => ({
    name,
    help,
    type: 'gauge',
    samples: samples.filter((s): s is Sample => s !== undefined && s.value !== undefined && !Number.isNaN(s.value)),
  });
  const of = (labels: Record<string, string>, value: number | null | undefined): Sample | undefined =>
    value === undefined || value === null ? undefined : { labels: Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, redact(v, list)])), value };

  const run = newestFinishedRun(db);
  const shown = run && (run.status === 'ok' && run.suspect ? 'suspect' : run.status);
  const targets = targetMetrics(db);
  const checks = newestChecks(db);
  const per = (f: (t: (typeof targets)[number]) => number | null | undefined): (Sample | undefined)[] => targets.map((t) => of({ service: t.service, target: t.target }, f(t)));
  const perCheck = (f: (c: (typeof checks)[number]) => number | undefined): (Sample | undefined)[] => checks.map((c) => of({ service: c[0], target: c[1], check: c[2] }, f(c)));

  return [
    family('batt_last_run_id', 'Id of the newest finished backup run (batt show <id>).', [run && of({}, run.id)]),
    family(
      'batt_last_run_status',
      'Status of the newest finished backup run: 1 for its status, 0 for the others.',
      run ? shownStatuses.map((s) => of({ status: s }, s === shown ? 1 : 0)) : [],
    ),
    family('batt_last_run_timestamp_seconds', 'When the newest finished backup run ended, in seconds since the epoch.', [run && of({}, seconds(run.finishedAt))]),
    family('batt_last_run_duration_seconds', 'How long the newest finished backup run took.', [
      run && run.finishedAt ? of({}, (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000) : undefined,
    ]),
    family(
      'batt_last_success_timestamp_seconds',
      'When the newest good backup of the target (ok and not suspect) ended, in seconds since the epoch.',
      per((t) => seconds(t.good?.finishedAt)),
    ),
    family(
      'batt_last_backup_success',
      'Whether the newest backup of the target is good: 1 ok and not suspect, 0 failed, aborted or suspect.',
      per((t) => (t.newest.status === 'ok' && !t.newest.suspect ? 1 : 0)),
    ),
    family(
      'batt_last_backup_timestamp_seconds',
      'When the newest backup of the target ended, good or not.',
      per((t) => seconds(t.newest.finishedAt)),
    ),
    family(
      'batt_last_backup_duration_seconds',
      'How long the newest backup of the target took.',
      per((t) => (t.newest.finishedAt ? (Date.parse(t.newest.finishedAt) - Date.parse(t.newest.startedAt)) / 1000 : undefined)),
    ),
    family(
      'batt_last_backup_bytes',
      'Size of the newest good backup of the target, in bytes as stored (compressed).',
      per((t) => t.good?.bytes),
    ),
    family(
      'batt_suspect_backups',
      'Backups of the target kept that are marked suspect (batt accept clears them).',
      per((t) => t.suspects),
    ),
    family(
      'batt_last_check_success',
      'Whether the newest verify or restore drill (check="verify" or "restore-test") of a backup of the target passed: 1 or 0.',
      perCheck((c) => (c[3] === 'ok' ? 1 : 0)),
    ),
    family(
      'batt_last_check_timestamp_seconds',
      'When the newest verify or restore drill of a backup of the target ended, in seconds since the epoch.',
      perCheck((c) => seconds(c[4])),
    ),
  ];
}

/** Writes `text` to `path` whole or not at all: a temporary file beside it (not *.prom, so the collector skips it), then a rename. */
export function writeMetricsFile(path: string, text: string): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temp, text, { mode: 0o644 });
    // node_exporter runs as its own user: it must be able to read the file whatever batt's umask.
    chmodSync(temp, 0o644);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

export interface MetricsScope {
  db: CatalogDb;
  config: BattConfig;
  log: Logger;
  secrets: Set<string>;
}

/** Rewrites the metrics file when a backup or verify run finishes; a failure to write is a warning, never the run's. */
export function metricsEvents(events: RunEvents, scope: MetricsScope): () => void {
  const path = scope.config.metrics_file;
  if (!path) return () => {};
  return events.on((e) => {
    if (e.type !== 'run-finished' || (e.kind !== 'backup' && e.kind !== 'verify')) return;
    try {
      writeMetricsFile(path, exposition(metricsOf(scope.db, scope.secrets)));
    } catch (error) {
      scope.log.warn(`could not write the metrics file ${path}: ${describeError(error)}`);
    }
  });
}
