/**
 * Run events: what a backup run does, as it does it, on one emitter. The log is their first
 * subscriber (logEvents); notifications, metrics, hooks and the dashboard subscribe here too, and
 * nowhere else. Events are facts about the run, never instructions: a subscriber that throws is
 * logged and cannot fail or delay the run.
 */
import type { ItemStatus, RunStatus } from '../catalog/schema.js';
import { humanBytes } from '../text/names.js';
import type { Logger } from '../log/logger.js';
import type { ItemFacts } from '../plugins/types.js';

export type RunKind = 'backup';

export type RunEvent =
  | { type: 'run-started'; kind: RunKind; runId: number; at: string; services: string[] }
  /** `script`: a drop-in script, with its arguments as the target. */
  | { type: 'item-started'; runId: number; service: string; target: string; script?: string; at: string }
  /** Bytes written so far (compressed, as they reach the disk), at most about once a second. */
  | { type: 'item-progress'; runId: number; service: string; target: string; bytes: number; seconds: number }
  | { type: 'item-warning'; runId: number; service: string; target: string; message: string }
  | {
      type: 'item-finished';
      runId: number;
      service: string;
      target: string;
      status: ItemStatus;
      file?: string;
      bytes?: number;
      sha256?: string;
      error?: string;
      seconds: number;
      suspect?: string;
      /** What the plugin recorded of a good dump (row counts per table, versions, warnings). */
      facts?: ItemFacts;
      /** Drop-in scripts report each file they wrote; the log names them without timings. */
      script?: boolean;
    }
  | { type: 'run-finished'; kind: RunKind; runId: number; status: RunStatus; at: string; ok: number; failed: number };

export type RunListener = (event: RunEvent) => void;

/** One emitter per run: listeners are called in order, each shielded from the others. */
export class RunEvents {
  private readonly listeners: RunListener[] = [];

  constructor(private readonly log?: Logger) {}

  on(listener: RunListener): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  emit(event: RunEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.log?.warn(`a listener of the run's events failed on ${event.type}: ${(error as Error).message}`);
      }
    }
  }
}

/**
 * A pipeline's bytes-so-far callback that emits `item-progress` at most every `everyMs`: the first
 * after `everyMs`, so an item that finishes sooner says nothing.
 */
export function progressOf(events: RunEvents, item: { runId: number; service: string; target: string }, everyMs = 1000, clock = Date.now): (bytes: number) => void {
  const started = clock();
  let next = started + everyMs;
  return (bytes) => {
    const at = clock();
    if (at < next) return;
    next = at + everyMs;
    events.emit({ type: 'item-progress', ...item, bytes, seconds: (at - started) / 1000 });
  };
}

/** The run's log, written from its events: the lines batt has always written. */
export function logEvents(events: RunEvents, log: Logger): () => void {
  return events.on((e) => {
    if (e.type === 'item-started') {
      if (e.script !== undefined) log.scoped(e.service).info(`running ${e.script}${e.target === '*' ? '' : ` ${e.target}`}`);
      else log.scoped(e.service).info(`${e.target}: started`);
    } else if (e.type === 'item-warning') log.scoped(e.service).warn(`${e.target}: ${e.message}`);
    else if (e.type === 'item-finished') {
      const slog = log.scoped(e.service);
      if (e.status === 'ok') slog.info(`${e.target}: ok → ${e.file} (${humanBytes(e.bytes)}${e.script ? '' : `, ${e.seconds.toFixed(1)}s`})`);
      else slog.error(e.script ? (e.error ?? e.status) : `${e.target}: ${e.error ?? e.status}`);
    }
  });
}
