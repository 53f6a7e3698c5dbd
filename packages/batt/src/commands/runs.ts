/**
 * `batt runs`: the catalog's runs, newest first, for people and (with --json) for scripts. It
 * reads through the bare SQLite connection and plain statements (no drizzle, no plugins, no
 * yargs on the quick path), so it answers in about the time Node takes to start.
 */
import { openCatalogClient } from '@batt/core/catalog/client';
import { listRuns } from '@batt/core/catalog/run-list';
import type { RunStatus } from '@batt/core/catalog/statuses';
import { colourStatus, duration, humanBytes, out, printJson, printTable, when } from '../output.js';

export interface RunsArgs {
  service?: string;
  status?: RunStatus;
  last: number;
  json: boolean;
}

/** "3", "2/3" (one failed), or "1 running" / "2 done, 1 running" while the run goes on. */
function itemsCell(r: { items: number; failedItems: number; runningItems: number }): string {
  const done = r.items - r.runningItems;
  if (r.runningItems) return done ? `${done} done, ${r.runningItems} running` : `${r.runningItems} running`;
  return r.failedItems ? `${r.items - r.failedItems}/${r.items}` : String(r.items);
}

/** `offsite 3, disk 3`: a run's confirmed copies by storage; `-` when it has none. */
const copiesCell = (byStorage: Record<string, number>): string =>
  Object.entries(byStorage)
    .map(([storage, n]) => `${storage} ${n}`)
    .join(', ') || '-';

export async function runsCommand(catalog: string, args: RunsArgs): Promise<number> {
  const db = { $client: await openCatalogClient(catalog) };
  try {
    const rows = listRuns(db, { service: args.service, status: args.status, last: args.last });
    if (args.json) {
      printJson(rows);
      return 0;
    }
    if (rows.length === 0) {
      out`${args.service || args.status ? 'no runs match' : 'no runs yet'}\n`;
      return 0;
    }
    // A COPIES column (copies by storage) only when a listed run has copies: the table stays as it was for a home without storage:.
    const copied = rows.some((r) => r.copies > 0);
    printTable(
      ['RUN', 'STARTED', 'STATUS', 'ITEMS', 'SIZE', 'TOOK', 'VERIFIED', ...(copied ? ['COPIES'] : []), 'SERVICES'],
      rows.map((r) => [
        String(r.id),
        when(r.startedAt),
        r.suspectItems && r.status === 'ok' ? colourStatus('suspect') : colourStatus(r.status),
        itemsCell(r),
        humanBytes(r.bytes),
        duration(r.startedAt, r.finishedAt),
        r.checked ? colourStatus(r.checked) : '-',
        ...(copied ? [copiesCell(r.copiesByStorage)] : []),
        r.services,
      ]),
    );
    return 0;
  } finally {
    db.$client.close();
  }
}
