/** `batt list [available|enabled|disabled]`, `batt enable <svc..>`, `batt disable <svc..>`. */
import { disableServices, enableServices } from '@batt/core/plugins/enable';
import type { App } from '../app.js';
import { out, printJson, printTable } from '../output.js';

export type ListWhich = 'all' | 'available' | 'enabled' | 'disabled';

export function listCommand(app: App, which: ListWhich, json: boolean): number {
  const services = app.services.filter((s) => which === 'all' || which === 'available' || (which === 'enabled') === s.enabled);
  if (json) {
    printJson(services.map((s) => ({ name: s.name, kind: s.kind, enabled: s.enabled, path: s.path, aliases: s.plugin?.aliases ?? [], summary: s.plugin?.summary ?? null })));
    return 0;
  }
  printTable(
    ['SERVICE', 'ENABLED', 'KIND', 'FROM'],
    services.map((s) => [
      s.name + (s.plugin?.aliases?.length ? ` (${s.plugin.aliases.join(', ')})` : ''),
      s.enabled ? 'yes' : 'no',
      s.kind,
      s.plugin ? `${s.plugin.summary} [${s.path}]` : s.path,
    ]),
  );
  return 0;
}

export function toggleCommand(app: App, action: 'enable' | 'disable', names: readonly string[], json: boolean): number {
  const results = action === 'enable' ? enableServices(app.home, app.services, names) : disableServices(app.home, app.services, names);
  if (json) printJson(results);
  else for (const r of results) out`${r.message}\n`;
  return 0;
}
