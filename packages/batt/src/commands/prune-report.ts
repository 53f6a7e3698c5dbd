/**
 * How `batt prune` and `batt purge` show their plan: per service and target, each backup kept
 * or removed with its reasons, newest first, as text or as JSON.
 */
import { decisionOf, itemDetails, type CatalogDb, type PrunePlan } from '@batt/core';
import type { PruneArgs } from './prune.js';
import { humanBytes, out, text, when } from '../output.js';

/** How many removed backups of one target are listed before "… and N more". */
const SHOWN = 10;

export function printPlan(plan: PrunePlan, args: PruneArgs, db: CatalogDb): void {
  out`${args.command} plan${args.dryRun ? ' (dry run: nothing is removed)' : ''}\n`;
  let service = '';
  for (const g of plan.groups) {
    if (g.service !== service) out`${(service = g.service)}  (${plan.rules[service]})\n`;
    // A target's lines are written at once: thousands of kept backups are thousands of lines.
    const lines = [text`  ${g.target}\n`.text];
    const listed = listedOf(g, args.verbose);
    const details = itemDetails(
      db,
      listed.map((i) => g.ids[i]),
    );
    let listedRemovedBytes = 0;
    for (const i of listed) {
      const d = decisionOf(g, i);
      const { runId, bytes } = details.get(g.ids[i]) ?? { runId: '?', bytes: 0 };
      if (!d.keep) listedRemovedBytes += bytes ?? 0;
      lines.push(
        text`    ${d.keep ? 'keep  ' : 'remove'}  run ${String(runId).padEnd(6)} ${when(new Date(g.times[i]).toISOString())}  ${humanBytes(bytes ?? 0).padStart(9)}  ${d.reasons.join(', ')}\n`
          .text,
      );
    }
    const hidden = g.ids.length - listed.length;
    if (hidden) lines.push(text`    remove  … and ${hidden} older (${humanBytes(g.removedBytes - listedRemovedBytes)}); --verbose lists them\n`.text);
    process.stdout.write(lines.join(''));
  }
  for (const name of plan.untouched) out`${name}: no keep rule, nothing removed (pass --keep-* or set keep_* in the config)\n`;
}

/** Indexes of the backups listed, newest first: every kept one, and the first few removed (all with --verbose). */
function listedOf(g: PrunePlan['groups'][number], verbose: boolean): number[] {
  // The catalog hands backups over oldest first, so walking backwards is enough; a sort is the fallback.
  const n = g.ids.length;
  let ascending = true;
  for (let i = 1; i < n && ascending; i++) ascending = g.times[i] > g.times[i - 1] || (g.times[i] === g.times[i - 1] && g.ids[i] > g.ids[i - 1]);
  const order = ascending ? undefined : Array.from({ length: n }, (_, i) => i).sort((a, b) => g.times[b] - g.times[a] || g.ids[b] - g.ids[a]);
  const listed: number[] = [];
  let removed = 0;
  for (let k = 0; k < n; k++) {
    const i = order ? order[k] : n - 1 - k;
    if (g.keep[i] === 1 || verbose || removed++ < SHOWN) listed.push(i);
  }
  return listed;
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

/** Every backup of the plan as --json lists it, one target at a time. */
export function* jsonItems(plan: PrunePlan, db: CatalogDb): Generator<object> {
  for (const g of plan.groups) {
    const details = itemDetails(db, g.ids);
    for (let i = 0; i < g.ids.length; i++) {
      const id = g.ids[i];
      yield {
        itemId: id,
        runId: details.get(id)?.runId,
        service: g.service,
        target: g.target,
        time: new Date(g.times[i]).toISOString(),
        bytes: details.get(id)?.bytes,
        ...decisionOf(g, i),
      };
    }
  }
}
