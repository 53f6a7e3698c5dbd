/**
 * What a restore will do, worked out before anything changes: for each chosen backup, where it
 * goes, for people and for the plugin, and whether that target exists already.
 */
import { join } from 'node:path';
import { BattError } from '../errors/errors.js';
import { which } from '../exec/exec.js';
import type { HomeLayout } from '../home/home.js';
import type { Service } from '../plugins/discovery.js';
import { pluginContext } from '../plugins/types.js';
import type { RestoreRequest } from './restore-run.js';
import type { Selected } from './select.js';

export interface PlannedRestore {
  runId: number;
  itemId: number;
  service: string;
  target: string;
  file: string;
  bytes: number | null;
  sha256: string | null;
  toolVersion: string | null;
  serverVersion: string | null;
  /** Where it goes: the value handed to the plugin. */
  into: string;
  /** Where it goes, for people. */
  label: string;
  /** create (new), replace (--force over an existing one), swap (--replace), script (restore-<svc>). */
  action: 'create' | 'replace' | 'swap' | 'script';
  exists: boolean;
  /** With --from: the copy the artifact was read from (`file` is then the local file it is a copy of). */
  from?: { storage: string; key: string };
}

/** The restore script of a drop-in service: scripts-available/restore-<name>, if executable. */
export function restoreScriptOf(home: HomeLayout, service: Service): string | undefined {
  return which(join(home.available, `restore-${service.name}`));
}

export async function plan(request: RestoreRequest, chosen: Selected[]): Promise<PlannedRestore[]> {
  const plugins = chosen.filter((c) => c.service.plugin);
  if (request.into !== undefined && plugins.filter((c) => !c.service.plugin?.targetsArePaths).length > 1) {
    throw new BattError('USAGE', `--into names one database, but ${plugins.length} backups match: ${plugins.map((c) => `${c.service.name} ${c.item.target}`).join(', ')}`, {
      hint: 'pick one with [service] and --target NAME',
    });
  }
  if (request.replace && plugins.some((c) => !c.service.plugin?.canReplace)) {
    const able = request.services.filter((x) => x.plugin?.canReplace).map((x) => x.name);
    throw new BattError('USAGE', `--replace swaps in a restored database: it is for ${able.join(' and ')}`, { hint: 'use --force to restore over an existing target' });
  }
  if (request.replace && request.into === undefined)
    throw new BattError('USAGE', '--replace needs --into NAME: the database to swap the restored copy in for', {
      hint: 'e.g. batt restore latest mysql --target app --into app_test --replace',
    });
  const planned: PlannedRestore[] = [];
  for (const { run, item, service } of chosen) {
    const base = {
      runId: run.id,
      itemId: item.id,
      service: service.name,
      target: item.target,
      file: item.file!,
      bytes: item.bytes,
      sha256: item.sha256,
      toolVersion: item.toolVersion,
      serverVersion: item.serverVersion,
    };
    const plugin = service.plugin;
    if (!plugin) {
      if (!restoreScriptOf(request.home, service)) {
        throw new BattError('NOT_FOUND', `${service.name} is a drop-in script without a restore script`, {
          hint: `add an executable scripts-available/restore-${service.name} (it gets BATT_SOURCE), or restore ${item.file} by hand`,
        });
      }
      planned.push({
        ...base,
        into: request.to ?? request.into ?? '',
        label: `restore-${service.name}${(request.to ?? request.into) ? ` into ${request.to ?? request.into}` : ''}`,
        action: 'script',
        exists: false,
      });
      continue;
    }
    if (!plugin.restore) throw new BattError('NOT_FOUND', `the ${service.name} service cannot restore`, { hint: `restore ${item.file} by hand` });
    const into = (plugin.targetsArePaths ? (request.to ?? request.into) : (request.into ?? request.to)) ?? plugin.restoreInto?.(item.target, run.id) ?? item.target;
    const look = plugin.planRestore ? await plugin.planRestore(pluginContext(request, service.name, run.id), item.target, into) : { label: into, exists: false };
    planned.push({ ...base, into, label: look.label, exists: look.exists, action: request.replace ? 'swap' : look.exists ? 'replace' : 'create' });
  }
  return planned;
}
