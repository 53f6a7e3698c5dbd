/**
 * A prune as a run with events (events/events.ts): it starts with its rules, each backup the plan
 * removes is an item that ends removed (or kept, when a restore or verify claimed it first or the
 * prune failed before it), and it finishes with what went and what stays. The log is subscribed
 * here, as for a backup run; callers may subscribe more.
 */
import type { CatalogDb } from '../catalog/db.js';
import { itemExists, itemFileReader } from '../catalog/items.js';
import { RunEvents } from '../events/events.js';
import { logEvents } from '../events/log-subscriber.js';
import type { Logger } from '../log/logger.js';
import { executePrune, type PruneResult } from './prune.js';
import type { PrunePlan, PruneRequest } from './prune-plan.js';

export interface PruneRunOptions {
  log: Logger;
  /** Said before anything is removed (the CLI's drill warnings). */
  warnings?: string[];
  events?: RunEvents;
}

interface Removal {
  itemId: number;
  runId?: number;
  service: string;
  target: string;
  file?: string;
  bytes?: number;
}

/** What a prune removes, read before the removal: the catalog rows are gone once it is done. */
function removalsOf(db: CatalogDb, plan: PrunePlan): Removal[] {
  const removals: Removal[] = [];
  const row = itemFileReader(db);
  for (const g of plan.groups) {
    const { ids, keep } = g.columns();
    ids.forEach((id, i) => {
      if (keep[i] === 1) return;
      const [runId, file, bytes] = row(id) ?? [];
      removals.push({ itemId: id, runId, service: g.service, target: g.target, file: file ?? undefined, bytes: bytes ?? undefined });
    });
  }
  return removals;
}

function keptBy(plan: PrunePlan): number {
  return plan.groups.reduce((n, g) => n + g.kept, 0);
}

/** Applies a plan (executePrune) as a run: its events tell the log, and any other subscriber, what went. */
export async function runPrune(request: PruneRequest, plan: PrunePlan, roots: readonly string[], options: PruneRunOptions): Promise<PruneResult> {
  const { db } = request;
  const events = options.events ?? new RunEvents(options.log);
  const unsubscribe = logEvents(events, options.log);
  try {
    const removals = removalsOf(db, plan);
    const kept = keptBy(plan);
    events.emit({ type: 'run-started', kind: 'prune', at: new Date().toISOString(), services: Object.keys(plan.rules), rules: plan.rules, warnings: options.warnings ?? [] });
    const at = new Date().toISOString();
    for (const r of removals) events.emit({ type: 'item-started', kind: 'prune', ...r, at });
    // Whatever happened, each removal says whether it is gone: the rows that remain were kept.
    const finishItems = (): void => {
      const still = itemExists(db);
      for (const r of removals) events.emit({ type: 'item-finished', kind: 'prune', ...r, status: still(r.itemId) ? 'kept' : 'removed' });
    };
    let result: PruneResult;
    try {
      result = await executePrune(request, plan, roots);
    } catch (error) {
      finishItems();
      events.emit({
        type: 'run-finished',
        kind: 'prune',
        status: 'failed',
        at: new Date().toISOString(),
        removed: 0,
        bytes: 0,
        kept,
        heldMeanwhile: 0,
        error: (error as Error).message,
      });
      throw error;
    }
    finishItems();
    const { pruneId, removed, bytes, heldMeanwhile } = result;
    events.emit({ type: 'run-finished', kind: 'prune', status: 'ok', at: new Date().toISOString(), pruneId, removed, bytes, kept, heldMeanwhile });
    return result;
  } finally {
    unsubscribe();
  }
}
