/**
 * How `batt prune` and `batt purge` show their plan: per service and target, each backup kept
 * or removed with its reasons, newest first, as text or as JSON.
 */
import { decisionOf, itemDetails, type CatalogDb, type PrunePlan } from '@batt/core';
import type { PruneArgs } from './prune.js';
import { humanBytes, out, when } from '../output.js';

/** How many removed backups of one target are listed before "… and N more". */
const SHOWN = 10;

export function printPlan(plan: PrunePlan, args: PruneArgs, db: CatalogDb): void {
  out`${args.command} plan${args.dryRun ? ' (dry run: nothing is removed)' : ''}\n`;
  let service = '';
  for (const g of plan.groups) {
    if (g.service !== service) out`${(service = g.service)}  (${plan.rules[service]})\n`;
    out`  ${g.target}\n`;
    const order = newestFirst(g);
    let removed = 0;
    const listed = order.filter((i) => g.keep[i] === 1 || args.verbose || removed++ < SHOWN);
    const details = itemDetails(
      db,
      listed.map((i) => g.ids[i]),
    );
    let listedRemovedBytes = 0;
    for (const i of listed) {
      const d = decisionOf(g, i);
      const { runId, bytes } = details.get(g.ids[i]) ?? { runId: '?', bytes: 0 };
      if (!d.keep) listedRemovedBytes += bytes ?? 0;
      out`    ${d.keep ? 'keep  ' : 'remove'}  run ${String(runId).padEnd(6)} ${when(new Date(g.times[i]).toISOString())}  ${humanBytes(bytes ?? 0).padStart(9)}  ${d.reasons.join(', ')}\n`;
    }
    const hidden = order.length - listed.length;
    if (hidden) out`    remove  … and ${hidden} older (${humanBytes(g.removedBytes - listedRemovedBytes)}); --verbose lists them\n`;
  }
  for (const name of plan.untouched) out`${name}: no keep rule, nothing removed (pass --keep-* or set keep_* in the config)\n`;
}

/** Indexes of a group's backups, newest first. The catalog hands them over oldest first, so
 * reversing is enough; a sort is the fallback. */
function newestFirst(g: PrunePlan['groups'][number]): number[] {
  const n = g.ids.length;
  let ascending = true;
  for (let i = 1; i < n && ascending; i++) ascending = g.times[i] > g.times[i - 1] || (g.times[i] === g.times[i - 1] && g.ids[i] > g.ids[i - 1]);
  const order = Array.from({ length: n }, (_, i) => n - 1 - i);
  return ascending ? order : order.sort((a, b) => g.times[b] - g.times[a] || g.ids[b] - g.ids[a]);
}

export function summary(plan: PrunePlan): { keep: number; remove: number; bytes: number } {
  let keep = 0;
  let remove = 0;
  let bytes = 0;
  for (const g of plan.groups) {
    for (let i = 0; i < g.ids.length; i++) {
      if (g.keep[i] === 1) keep++;
      else remove++;
    }
    bytes += g.removedBytes;
  }
  return { keep, remove, bytes };
}

export function jsonItems(plan: PrunePlan, db: CatalogDb): object[] {
  return plan.groups.flatMap((g) => {
    const details = itemDetails(db, g.ids);
    return g.ids.map((id, i) => ({
      itemId: id,
      runId: details.get(id)?.runId,
      service: g.service,
      target: g.target,
      time: new Date(g.times[i]).toISOString(),
      bytes: details.get(id)?.bytes,
      ...decisionOf(g, i),
    }));
  });
}
