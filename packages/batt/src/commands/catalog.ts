/** `batt show <run>`: one run from the catalog, for people and (with --json) for scripts. (`batt runs` is runs.ts.) */
import { closeCatalog, openCatalog } from '@batt/core/catalog/db';
import { copiesOf } from '@batt/core/catalog/copies';
import { getRun } from '@batt/core/catalog/queries';
import { BattError } from '@batt/core/errors/errors';
import type { App } from '../app.js';
import { colourStatus, duration, humanBytes, out, printJson, shortVersion, text, when } from '../output.js';

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
