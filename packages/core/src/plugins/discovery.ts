/**
 * Which services exist and which are enabled. Every service, built-in or drop-in script, is an
 * executable `backup-<name>` in the home's scripts-available/; a built-in's entry is a small
 * shim carrying a `batt-builtin: <name>` marker, and batt runs the TypeScript plugin for it.
 * A service is enabled when scripts-enabled/backup-<name> links to it (as in the original batt).
 */
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BattError, didYouMean } from '../errors/errors.js';
import type { HomeLayout } from '../home/home.js';
import type { PluginRegistry } from './registry.js';
import type { Plugin } from './types.js';

export interface Service {
  name: string;
  kind: 'built-in' | 'script';
  /** The entry in scripts-available/. */
  path: string;
  enabled: boolean;
  plugin?: Plugin;
  /** `restore-<name>` beside a drop-in script, when present. */
  restoreScript?: string;
}

const BUILTIN_MARKER = /batt-builtin:\s*([a-z0-9-]+)/;
const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function builtinMarker(path: string): string | undefined {
  try {
    return BUILTIN_MARKER.exec(readFileSync(path, 'utf8').slice(0, 512))?.[1];
  } catch {
    return undefined;
  }
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function discoverServices(home: HomeLayout, registry: PluginRegistry): Service[] {
  const services = new Map<string, Service>();
  const entries = existsSync(home.available) ? readdirSync(home.available).sort() : [];
  for (const entry of entries) {
    if (!entry.startsWith('backup-')) continue;
    const name = entry.slice('backup-'.length);
    const path = join(home.available, entry);
    if (!SERVICE_NAME.test(name) || !isExecutableFile(path)) continue;
    const marker = builtinMarker(path);
    const plugin = marker ? registry.get(marker) : undefined;
    if (marker && !plugin) continue; // a built-in this batt does not have (newer home): not runnable
    const restore = join(home.available, `restore-${name}`);
    services.set(name, {
      name: plugin?.name ?? name,
      kind: plugin ? 'built-in' : 'script',
      path,
      enabled: existsSync(join(home.enabled, entry)),
      plugin,
      restoreScript: !plugin && isExecutableFile(restore) ? restore : undefined,
    });
  }
  for (const plugin of registry.all()) {
    if (!services.has(plugin.name)) {
      services.set(plugin.name, { name: plugin.name, kind: 'built-in', path: join(home.available, `backup-${plugin.name}`), enabled: false, plugin });
    }
  }
  // By code point, not localeCompare: its first call loads ICU's collator, ~11 ms of every run.
  return [...services.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Resolves a name or alias to a service; UNKNOWN_SERVICE lists the known ones. */
export function findService(services: readonly Service[], name: string): Service {
  const found = services.find((s) => s.name === name || s.plugin?.aliases?.includes(name));
  if (!found) {
    const guess = didYouMean(
      name,
      services.flatMap((s) => [s.name, ...(s.plugin?.aliases ?? [])]),
    );
    throw new BattError('UNKNOWN_SERVICE', `unknown service "${name}"${guess ? `: did you mean "${guess}"?` : ''}`, {
      hint: `known services: ${services.map((s) => s.name).join(', ')} (see \`batt list\`; drop-in scripts go in scripts-available/backup-<name>)`,
    });
  }
  return found;
}
