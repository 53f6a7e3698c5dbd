/**
 * The first subscriber of run events: the run's log (and through it the terminal), with the lines
 * batt has always written. One function per kind of run.
 */
import type { Logger } from '../log/logger.js';
import { humanBytes } from '../text/names.js';
import { whyFailed, type BackupEvent, type PruneEvent, type RestoreEvent, type RunEvents, type VerifyEvent } from './events.js';

/** The run's log, written from its events: the lines batt has always written. */
export function logEvents(events: RunEvents, log: Logger): () => void {
  return events.on((e) => {
    if (e.kind === 'backup') logBackup(e, log);
    else if (e.kind === 'restore') logRestore(e, log);
    else if (e.kind === 'verify') logVerify(e, log);
    else logPrune(e, log);
  });
}

function logBackup(e: BackupEvent, log: Logger): void {
  if (e.type === 'item-started') {
    if (e.script !== undefined) log.scoped(e.service).info(`running ${e.script}${e.target === '*' ? '' : ` ${e.target}`}`);
    else log.scoped(e.service).info(`${e.target}: started`);
  } else if (e.type === 'item-warning') log.scoped(e.service).warn(`${e.target}: ${e.message}`);
  else if (e.type === 'item-finished') {
    const slog = log.scoped(e.service);
    if (e.status === 'ok') slog.info(`${e.target}: ok → ${e.file} (${humanBytes(e.bytes)}${e.script ? '' : `, ${e.seconds.toFixed(1)}s`})`);
    else slog.error(e.script ? (e.error ?? e.status) : `${e.target}: ${e.error ?? e.status}`);
  }
}

function logRestore(e: RestoreEvent, log: Logger): void {
  if (e.type === 'item-started') {
    if (e.script === undefined) log.scoped(e.service).info(`${e.target}: restoring into ${e.into}${e.action === 'swap' ? ' (via a checked temporary copy)' : ''}`);
  } else if (e.type === 'item-finished') {
    const slog = log.scoped(e.service);
    if (e.status === 'failed') slog.error(e.script === undefined ? `${e.target}: ${e.error}` : `${e.error}`);
    else if (e.script === undefined) slog.info(`${e.target}: restored into ${e.into}`);
  }
}

function logVerify(e: VerifyEvent, log: Logger): void {
  if (e.type === 'item-started') {
    if (e.check === 'restore-test') log.scoped(e.service).info(`${e.target}: restore drill`);
  } else if (e.type === 'item-finished') {
    const slog = log.scoped(e.service);
    if (e.status === 'pruned') slog.warn(`${e.target}: run ${e.runId}'s backup was pruned meanwhile: skipped`);
    if (e.status !== 'ok' && e.status !== 'failed') return;
    const ok = e.status === 'ok';
    slog[ok ? 'info' : 'error'](`${e.target}: ${e.check === 'verify' ? 'verify' : 'restore drill'} ${ok ? 'ok' : `FAILED: ${whyFailed(e)}`}`);
  }
}

function logPrune(e: PruneEvent, log: Logger): void {
  if (e.type === 'run-started') {
    for (const w of e.warnings) log.warn(w);
    log.info(
      `rules ${Object.entries(e.rules)
        .map(([s, r]) => `${s}: ${r}`)
        .join('; ')}`,
    );
  } else if (e.type === 'item-finished') {
    if (e.status === 'removed') log.info(`removed ${e.service} ${e.target} of run ${e.runId}: ${e.file ?? '(no file)'} (${humanBytes(e.bytes ?? 0)})`);
  } else if (e.type === 'run-finished' && e.status === 'ok') log.info(`removed ${e.removed} backups (${humanBytes(e.bytes)}), kept ${e.kept}`);
}
