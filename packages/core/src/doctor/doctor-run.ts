/**
 * `batt doctor`: every check a backup depends on, run without changing anything and without the
 * lock (a doctor may run beside a backup). The configuration first; then each service's own
 * checks (its plugin's `doctor`, or its drop-in script); then the places the backups go (each
 * destination: trusted, writable, room for the last backups), the storages and encryption
 * recipients, the catalog and the enabled scripts. Every line is masked for secrets.
 */
import { keepsLocal } from '../backup/items.js';
import type { BattConfig } from '../config/load.js';
import { encryptionOf } from '../config/encryption.js';
import { redact } from '../log/logger.js';
import { catalogHealth } from '../catalog/health.js';
import { openStorages, storagesOf } from '../copies/storages.js';
import { staticRoot, validatePattern, withServicePlaceholder } from '../destination/expand.js';
import { defaultDestination, type HomeLayout } from '../home/home.js';
import type { Logger } from '../log/logger.js';
import { checkEncryption } from '../pipeline/encrypt.js';
import type { Service } from '../plugins/discovery.js';
import { pluginContext, type DoctorCheck } from '../plugins/types.js';
import { checkFolder, checkFreeSpace } from './places.js';
import { failedCheck, probe } from './checks.js';
import { runtimeDetail } from './runtime.js';
import { scriptChecks, serviceScriptCheck } from './scripts.js';

/** One line of the doctor's report; `service` when the check is one service's. */
export interface DoctorLine extends DoctorCheck {
  service?: string;
}

export interface DoctorRequest {
  home: HomeLayout;
  /** The services to check: the ones named, else the enabled ones (none: a failed line says so). */
  services: readonly Service[];
  /** The configuration, or what stopped it from loading. */
  config: BattConfig | { error: unknown };
  /** Masked in every line, with the secrets the configuration names. */
  secrets: Set<string>;
  log: Logger;
  signal: AbortSignal;
  host: string;
  clock: Date;
}

export async function runDoctor(request: DoctorRequest): Promise<DoctorLine[]> {
  const config = 'error' in request.config ? undefined : request.config;
  const lines: DoctorLine[] = [
    config
      ? { name: 'configuration', ok: true, detail: config.files.length ? `valid: ${config.files.join(', ')} and the environment` : 'valid: no config file, the environment only' }
      : failedCheck('configuration', (request.config as { error: unknown }).error),
    { name: 'node', ok: true, detail: runtimeDetail() },
  ];
  if (request.services.length === 0) {
    lines.push({
      name: 'services',
      ok: false,
      detail: 'no service is enabled, and none was named',
      fix: 'enable some (`batt enable file mysql`) or name them (`batt doctor mysql`)',
    });
  }
  let lastBytes: Map<string, number> | undefined;
  const catalog = await probe('catalog', () => {
    lastBytes = catalogHealth(request.home.catalog);
    return lastBytes ? `${request.home.catalog}: PRAGMA quick_check ok` : `${request.home.catalog}: none yet (the first backup makes it)`;
  });
  if (config) {
    const perService = await Promise.all(request.services.map((s) => serviceChecks(request, config, s)));
    lines.push(...perService.flat());
    lines.push(...placeChecks(request, config, lastBytes));
    lines.push(...(await storageChecks(request, config)));
    lines.push(...(await encryptionChecks(request, config)));
  }
  lines.push(catalog, ...scriptChecks(request.home));
  const secrets = [...request.secrets];
  const mask = (text: string): string => redact(text, secrets);
  return lines.map((l) => ({ ...l, detail: mask(l.detail), ...(l.fix === undefined ? {} : { fix: mask(l.fix) }) }));
}

/** A service's own checks: its plugin's doctor, or its drop-in script's. */
async function serviceChecks(request: DoctorRequest, config: BattConfig, service: Service): Promise<DoctorLine[]> {
  const plugin = service.plugin;
  if (!plugin) return [{ service: service.name, ...serviceScriptCheck(service.path) }];
  if (!plugin.doctor) return [];
  const ctx = pluginContext({ config, log: request.log, signal: request.signal, home: request.home }, service.name, 0);
  try {
    return (await plugin.doctor(ctx)).map((c) => ({ service: service.name, ...c }));
  } catch (error) {
    // The contract says a doctor never throws: when one does, its failure is still a line.
    return [{ service: service.name, ...failedCheck('doctor', error) }];
  }
}

/** Each destination the services write to (grouped by its fixed root): trusted and writable, with room for the last backups. */
function placeChecks(request: DoctorRequest, config: BattConfig, lastBytes: Map<string, number> | undefined): DoctorLine[] {
  const roots = new Map<string, { pattern: string; services: string[] }>();
  for (const service of request.services) {
    const pattern = withServicePlaceholder((config.services[service.name]?.destination as string | undefined) ?? config.destination ?? defaultDestination(request.home.root));
    const root = staticRoot(pattern);
    const entry = roots.get(root) ?? { pattern, services: [] };
    entry.services.push(service.name);
    roots.set(root, entry);
  }
  const lines: DoctorLine[] = [];
  for (const [root, { pattern, services }] of roots) {
    const checked = syncProbe('destination', () => {
      validatePattern(pattern);
      return checkFolder(root);
    });
    lines.push(checked);
    if (!checked.ok) continue;
    // Services whose artifacts go straight to a storage (keep_local: false) take no room here.
    const local = services.filter((s) => keepsLocal(config, s));
    const sizes = local.map((s) => lastBytes?.get(s)).filter((n): n is number => n !== undefined);
    lines.push(syncProbe('free space', () => checkFreeSpace(root, sizes.length ? sizes.reduce((a, b) => a + b, 0) : undefined)));
  }
  return lines;
}

/** Every storage the services copy to, once each: proven reachable with its credentials (the check a run makes before its first dump). */
async function storageChecks(request: DoctorRequest, config: BattConfig): Promise<DoctorLine[]> {
  const lines: DoctorLine[] = [];
  const seen = new Set<string>();
  for (const service of request.services) {
    const entries = storagesOf(config, service.name) ?? [];
    if (entries.every((e) => e.name !== undefined && seen.has(e.name))) continue;
    // The destination only shapes the keys copies get, which a check does not use.
    const scope = { destination: '/', service: service.name, host: request.host, clock: request.clock };
    let copiers;
    try {
      copiers = await openStorages(entries, scope);
    } catch (error) {
      const line = failedCheck('storage', error);
      if (!lines.some((l) => l.detail === line.detail)) lines.push(line); // the top level's list is every service's
      continue;
    }
    for (const [i, copier] of copiers.entries()) {
      if (seen.has(copier.name)) continue;
      seen.add(copier.name);
      const entry = entries[i];
      lines.push(
        await probe(`storage ${copier.name}`, async () => {
          if (entry.type === 'local') return checkFolder(staticRoot(entry.path!));
          await copier.storage.check?.();
          return 'reachable, and the credentials may write';
        }),
      );
    }
  }
  return lines;
}

/** Each encryption setting the built-in services use, once each: every recipient usable. */
async function encryptionChecks(request: DoctorRequest, config: BattConfig): Promise<DoctorLine[]> {
  const lines: DoctorLine[] = [];
  const settings = new Map<string, NonNullable<ReturnType<typeof encryptionOf>>>();
  for (const service of request.services.filter((s) => s.plugin)) {
    try {
      const configured = encryptionOf(config, service.name);
      if (configured) settings.set(configured.where, configured);
    } catch (error) {
      const line = failedCheck('encryption', error);
      // The top level's setting is every service's: its fault is said once.
      if (!lines.some((l) => l.detail === line.detail)) lines.push(line);
    }
  }
  for (const [where, configured] of settings) {
    lines.push(
      await probe('encryption', async () => {
        const checked = await checkEncryption(configured);
        return `${checked.method} to ${checked.recipients.length} recipient(s), each usable${where === 'encryption' ? '' : ` (${where})`}`;
      }),
    );
  }
  return lines;
}

/** probe for a check that does not wait. */
function syncProbe(name: string, check: () => string): DoctorCheck {
  try {
    return { name, ok: true, detail: check() };
  } catch (error) {
    return failedCheck(name, error);
  }
}
