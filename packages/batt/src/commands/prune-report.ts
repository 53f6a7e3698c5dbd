/**
 * How `batt prune` and `batt purge` show their plan: per service and target, each backup kept
 * or removed with its reasons, newest first, as text or as JSON.
 */
import { decisionOf, itemDetails, LocalCalendar, type CatalogDb, type PrunePlan } from '@batt/core';
import type { PruneArgs } from './prune.js';
import { humanBytes, out, text } from '../output.js';

/** How many removed backups of one target are listed before "… and N more". */
const SHOWN = 10;

export function printPlan(plan: PrunePlan, args: PruneArgs, db: CatalogDb): void {
  out`${args.command} plan${args.dryRun ? ' (dry run: nothing is removed)' : ''}\n`;
  let service = '';
  // Local time as `when` shows it, with the zone's offset looked up once a day, not per line.
  const calendar = new LocalCalendar();
  for (const g of plan.groups) {
    if (g.service !== service) out`${(service = g.service)}  (${plan.rules[service]})\n`;
    // A target's lines are written at once: thousands of kept backups are thousands of lines.
    const lines = [text`  ${g.target}\n`.text];
    const listed = g.newest(args.verbose ? Infinity : SHOWN, args.verbose);
    const details = itemDetails(
      db,
      listed.filter((d) => d.runId === undefined).map((d) => d.id),
    );
    let listedRemovedBytes = 0;
    for (const d of listed) {
      const { runId, bytes } = d.runId === undefined ? (details.get(d.id) ?? { runId: '?', bytes: 0 }) : d;
      if (!d.keep) listedRemovedBytes += bytes ?? 0;
      // Every value here is batt's own (numbers, times, sizes, the rules' reasons), so nothing
      // needs escaping: tens of thousands of lines are written as they are.
      const time = new Date(calendar.local(d.time)).toISOString();
      lines.push(
        `    ${d.keep ? 'keep  ' : 'remove'}  run ${String(runId).padEnd(6)} ${time.slice(0, 10)} ${time.slice(11, 19)}  ${humanBytes(bytes ?? 0).padStart(9)}  ${d.reasons.join(', ')}\n`,
      );
    }
    // Failed runs kept only for being newer than the oldest kept backup are one line (a flaky
    // target makes thousands) unless --verbose.
    const folded = args.verbose ? 0 : g.keptFailed.count;
    if (folded) lines.push(`    keep    … and ${folded} failed (${humanBytes(g.keptFailed.bytes)}): not counted, newer than the oldest kept backup; --verbose lists them\n`);
    const hidden = g.kept + g.removed - folded - listed.length;
    if (hidden) lines.push(text`    remove  … and ${hidden} older (${humanBytes(g.removedBytes - listedRemovedBytes)}); --verbose lists them\n`.text);
    process.stdout.write(lines.join(''));
  }
  for (const name of plan.untouched) out`${name}: no keep rule, nothing removed (pass --keep-* or set keep_* in the config)\n`;
}

export function summary(plan: PrunePlan): { keep: number; remove: number; bytes: number } {
  let keep = 0;
  let remove = 0;
  let bytes = 0;
  for (const g of plan.groups) {
    keep += g.kept;
    remove += g.removed;
    bytes += g.removedBytes;
  }
  return { keep, remove, bytes };
}

/** Every backup of the plan as --json lists it, one target at a time. */
export function* jsonItems(plan: PrunePlan, db: CatalogDb): Generator<object> {
  for (const group of plan.groups) {
    const g = group.columns();
    const details = itemDetails(db, g.ids);
    for (let i = 0; i < g.ids.length; i++) {
      const id = g.ids[i];
      yield {
        itemId: id,
        runId: details.get(id)?.runId,
        service: group.service,
        target: group.target,
        time: new Date(g.times[i]).toISOString(),
        bytes: details.get(id)?.bytes,
        ...decisionOf(g, i),
      };
    }
  }
}
