/**
 * Run events: what a backup, restore, verify or prune run does, as it does it, on one emitter.
 * The log is their first subscriber (log-subscriber.ts); notifications, metrics, hooks and the dashboard
 * subscribe here too, and nowhere else. Events are facts about the run, never instructions: a
 * subscriber that throws is logged and cannot fail or delay the run.
 *
 * Every event has a `type` (run-started, item-started, item-progress, item-warning,
 * item-finished, run-finished) and the `kind` of run it belongs to.
 */
import type { ItemStatus, RunStatus } from '../catalog/schema.js';
import type { Logger } from '../log/logger.js';
import type { Check, ItemFacts } from '../plugins/types.js';

export type RunKind = 'backup' | 'restore' | 'verify' | 'prune';

/** `batt restore`: one item per backup restored through its plugin, or per run of a restore-<svc> script. */
export type RestoreEvent =
  | { type: 'run-started'; kind: 'restore'; at: string; services: string[] }
  /**
   * `runId`: the run that made the backup; `into`: where it goes, for people; `script`: the
   * restore script, which gets the run's files at once, with its arguments (or `*`) as the target.
   */
  | {
      type: 'item-started';
      kind: 'restore';
      runId: number;
      service: string;
      target: string;
      into: string;
      action: 'create' | 'replace' | 'swap' | 'script';
      script?: string;
      at: string;
    }
  | {
      type: 'item-finished';
      kind: 'restore';
      runId: number;
      service: string;
      target: string;
      into: string;
      status: 'ok' | 'failed';
      checks: Check[];
      error?: string;
      seconds: number;
      script?: string;
    }
  | { type: 'run-finished'; kind: 'restore'; status: RunStatus; at: string; ok: number; failed: number };

/**
 * `batt verify`, with `--restore-test` its drills: one item per check of a backup (`check`). An
 * item that is not checked after all has only its item-finished: `pruned` (the backup went
 * meanwhile), `skipped` (its service has no restore drill; `checks` says so).
 */
export type VerifyEvent =
  | { type: 'run-started'; kind: 'verify'; at: string; services: string[]; restoreTest: boolean }
  | { type: 'item-started'; kind: 'verify'; check: 'verify' | 'restore-test'; runId: number; service: string; target: string; file: string; at: string }
  | {
      type: 'item-finished';
      kind: 'verify';
      check: 'verify' | 'restore-test';
      runId: number;
      service: string;
      target: string;
      file: string;
      status: 'ok' | 'failed' | 'pruned' | 'skipped';
      checks: Check[];
      error?: string;
      seconds: number;
    }
  | { type: 'run-finished'; kind: 'verify'; status: RunStatus; at: string; ok: number; failed: number };

/**
 * `batt prune` and `batt purge`: one item per backup the plan removes (the ones it keeps are not
 * touched). It ends `removed`, or `kept` when a restore or verify claimed it meanwhile or the
 * prune failed first. `runId` is the run that made the backup.
 */
export type PruneEvent =
  | { type: 'run-started'; kind: 'prune'; at: string; services: string[]; rules: Record<string, string>; warnings: string[] }
  | { type: 'item-started'; kind: 'prune'; itemId: number; runId?: number; service: string; target: string; file?: string; bytes?: number; at: string }
  | { type: 'item-finished'; kind: 'prune'; itemId: number; runId?: number; service: string; target: string; file?: string; bytes?: number; status: 'removed' | 'kept' }
  /** `kept`: the backups the plan keeps; `heldMeanwhile`: removals a restore or verify claimed first. */
  | {
      type: 'run-finished';
      kind: 'prune';
      status: 'ok' | 'failed';
      at: string;
      pruneId?: number;
      removed: number;
      bytes: number;
      kept: number;
      heldMeanwhile: number;
      error?: string;
    };

/** `batt` (a backup run): one item per target, or per file a drop-in script wrote. */
export type BackupEvent =
  | { type: 'run-started'; kind: 'backup'; runId: number; at: string; services: string[] }
  /** `script`: a drop-in script, with its arguments as the target. */
  | { type: 'item-started'; kind: 'backup'; runId: number; service: string; target: string; script?: string; at: string }
  /** Bytes written so far (compressed, as they reach the disk), at most about once a second. */
  | { type: 'item-progress'; kind: 'backup'; runId: number; service: string; target: string; bytes: number; seconds: number }
  | { type: 'item-warning'; kind: 'backup'; runId: number; service: string; target: string; message: string }
  | {
      type: 'item-finished';
      kind: 'backup';
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
  /** `error`: why the run failed as a whole, when it failed before its items could (redacted). */
  | { type: 'run-finished'; kind: 'backup'; runId: number; status: RunStatus; at: string; ok: number; failed: number; error?: string };

export type RunEvent = BackupEvent | RestoreEvent | VerifyEvent | PruneEvent;

/** A run's status from its items: interrupted, all ok, none ok, or some. */
export function runStatusOf(ok: number, failed: number, aborted: boolean): RunStatus {
  return aborted ? 'aborted' : failed === 0 ? 'ok' : ok === 0 ? 'failed' : 'partial';
}

/** Why a check failed, in one line: its error, else each failed check with its detail. */
export function whyFailed(e: { error?: string; checks: readonly { name: string; ok: boolean; detail: string }[] }): string {
  return (
    e.error ??
    e.checks
      .filter((c) => !c.ok)
      .map((c) => `${c.name}: ${c.detail}`)
      .join('; ')
  );
}

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
    events.emit({ type: 'item-progress', kind: 'backup', ...item, bytes, seconds: (at - started) / 1000 });
  };
}
