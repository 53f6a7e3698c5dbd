/**
 * `batt runs` and `batt show <run>`: the catalog, for people and (with --json) for scripts. Only
 * catalog modules are imported, so `batt runs` starts quickly.
 */
import { closeCatalog, openCatalog } from '@batt/core/catalog/db';
import { copiesOf } from '@batt/core/catalog/copies';
import { getRun, listRuns } from '@batt/core/catalog/queries';
import type { RunStatus } from '@batt/core/catalog/statuses';
import { BattError } from '@batt/core/errors/errors';
import type { App } from '../app.js';
import { colourStatus, duration, humanBytes, out, printJson, printTable, shortVersion, text, when } from '../output.js';

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
  const db = await openCatalog(catalog);
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
    closeCatalog(db);
  }
}

export async function showCommand(app: App, ref: string, json: boolean): Promise<number> {
  const db = await openCatalog(app.home.catalog);
  try {
    const found = getRun(db, ref);
    if (!found) {
      throw new BattError('NOT_FOUND', `no run "${ref}" in the catalog ${app.home.catalog}`, { hint: 'give a run id from `batt runs`, or `latest`' });
    }
    const { checksOf } = await import('@batt/core/restore/select');
    const parse = (facts: string | null): unknown => (facts ? JSON.parse(facts) : null);
    const allChecks = checksOf(
      db,
      found.items.map((i) => i.id),
    ).map((c) => ({ ...c, details: parse(c.details) as { name: string; ok: boolean; detail: string }[] | null }));
    const copies = copiesOf(
      db,
      found.items.map((i) => i.id),
    );
    if (json) {
      // The same fields as batt serve's /api/runs/<id>.
      const { runDetail } = await import('@batt/core/serve/api');
      printJson(runDetail(db, String(found.run.id)));
      return 0;
    }
    const { run } = found;
    out`run ${run.id}  ${colourStatus(run.status)}\n  started  ${when(run.startedAt)}  took ${duration(run.startedAt, run.finishedAt)}\n`;
    out`  host     ${run.host} (user ${run.user})\n  path     ${run.destination}\n`;
    if (run.bundleFile) out`  bundle   ${run.bundleFile} (${humanBytes(run.bundleBytes)}, sha256 ${run.bundleSha256})\n`;
    if (run.error) out`  error    ${run.error}\n`;
    out`\n`;
    for (const i of found.items) {
      out`${colourStatus(i.status)}  ${i.service}  ${i.target}  ${duration(i.startedAt, i.finishedAt)}\n`;
      if (i.file) out`    file    ${i.file}\n    bytes   ${i.bytes} (${humanBytes(i.bytes)})\n    sha256  ${i.sha256}\n`;
      for (const c of copies.get(i.id) ?? []) out`    copy    ${c.storage}: ${c.key} (${humanBytes(c.bytes)}, read back ${when(c.copiedAt)})\n`;
      if (i.toolVersion) out`    tool    ${shortVersion(i.toolVersion)}${i.serverVersion ? text`, server ${shortVersion(i.serverVersion)}` : ''}\n`;
      if (i.error) out`    error   ${i.error}\n`;
      if (i.suspect) out`    ${colourStatus('suspect')} ${i.suspect} (retention does not count it as good)\n`;
      // The kept output of a tool or script: each of its lines on a line of batt's, marked "| " and escaped.
      if (i.log) i.log.split('\n').forEach((line, n) => out`${n ? '            ' : '    log     '}| ${line}\n`);
      for (const kind of ['verify', 'restore-test', 'restore'] as const) {
        const last = allChecks.find((c) => c.itemId === i.id && c.kind === kind);
        if (!last) continue;
        out`    ${kind.padEnd(7)} ${colourStatus(last.status)} ${when(last.startedAt)}${last.target ? text` into ${last.target}` : ''}${last.error ? text`: ${last.error}` : ''}\n`;
        for (const d of last.details ?? []) if (!d.ok || kind !== 'verify') out`            ${d.ok ? '✓' : '✗'} ${d.name}: ${d.detail}\n`;
      }
    }
    return 0;
  } finally {
    closeCatalog(db);
  }
}
