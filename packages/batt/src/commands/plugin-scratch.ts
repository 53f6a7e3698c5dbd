/**
 * The scratch world `batt plugin test` runs in: a private temporary folder holding a batt home
 * of its own (its catalog, lock and logs), a destination and a configuration that holds only the
 * service's connection settings. The service under test is the user's, but nothing the test
 * does reaches the user's catalog, backups, storages, notifications or hooks.
 */
import { accessSync, chmodSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { BattError, findService, loadConfig, serviceCommonKeys, type Plugin, type PluginContext } from '@batt/core';
import { scriptConfFile } from '@batt/core/plugins/scripts';
import type { App } from '../app.js';

/** What is tested: a built-in plugin, or a drop-in script pair. */
export interface Subject {
  name: string;
  plugin?: Plugin;
  /** A drop-in's backup-<name> and, when there is one, its restore-<name>. */
  script?: string;
  restoreScript?: string;
}

const executable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** `<service>` as given: a service of the home (built-in or drop-in), or a path to a backup-<name> script. */
export function subjectOf(app: App, given: string): Subject {
  if (!given.includes('/')) {
    const service = findService(app.services, given);
    return service.plugin ? { name: service.name, plugin: service.plugin } : { name: service.name, script: service.path, restoreScript: service.restoreScript };
  }
  const script = resolve(given);
  const name = basename(script).replace(/^backup-/, '');
  if (!basename(script).startsWith('backup-') || !name)
    throw new BattError('USAGE', `${given} is not a drop-in backup script: its name must be backup-<name>`, { hint: 'see docs/scripts.md' });
  if (!executable(script)) throw new BattError('USAGE', `${given} is not an executable file`, { hint: `chmod +x ${given}` });
  const restore = join(dirname(script), `restore-${name}`);
  return { name, script, restoreScript: executable(restore) ? restore : undefined };
}

export interface Scratch {
  dir: string;
  home: string;
  config: string;
  destination: string;
  /** The environment of every batt the test starts. */
  env: NodeJS.ProcessEnv;
}

/**
 * batt's own variables are left out of the children's environment (BATT_S3_BUCKET would add a
 * storage, BATT_HOME another home), but for the service's own connection settings
 * (BATT_MYSQL_HOST, BATT_MYSQL_PASSWORD, a drop-in's BATT_<NAME>_*).
 */
function childEnv(name: string): NodeJS.ProcessEnv {
  const prefix = `BATT_${name.replace(/-/g, '_').toUpperCase()}_`;
  const common = new Set(Object.keys(serviceCommonKeys).map((k) => k.toUpperCase()));
  const kept = (key: string): boolean => !key.startsWith('BATT_') || (key.startsWith(prefix) && ![...common].some((c) => key === prefix + c || key.startsWith(`${prefix}${c}_`)));
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => kept(key)));
}

/**
 * Makes the scratch folder. The configuration is the service's section of the user's file
 * (without its destination, storages, encryption, hooks and retention), written 0600 into a
 * 0700 folder that is removed afterwards.
 */
export async function makeScratch(app: App, subject: Subject, configFile: string | undefined): Promise<Scratch> {
  const fromFile = await loadConfig({
    configFile,
    confDir: app.home.conf,
    cwd: process.cwd(),
    env: {},
    services: app.services.map((s) => ({ name: s.name, aliases: s.plugin?.aliases ?? [], keys: s.plugin?.configKeys })),
  });
  const section = Object.fromEntries(Object.entries(fromFile.services[subject.name] ?? {}).filter(([key]) => !(key in serviceCommonKeys)));
  const dir = mkdtempSync(join(tmpdir(), 'batt-plugin-test-'));
  chmodSync(dir, 0o700);
  const home = join(dir, 'home');
  for (const sub of ['scripts-available', 'conf']) mkdirSync(join(home, sub), { recursive: true, mode: 0o700 });
  if (subject.script) {
    symlinkSync(subject.script, join(home, 'scripts-available', `backup-${subject.name}`));
    if (subject.restoreScript) symlinkSync(subject.restoreScript, join(home, 'scripts-available', `restore-${subject.name}`));
    const conf = scriptConfFile(app.home.conf, subject.name);
    if (conf) symlinkSync(conf, join(home, 'conf', basename(conf)));
  }
  const config = join(dir, 'batt.config.json');
  writeFileSync(config, JSON.stringify(Object.keys(section).length ? { [subject.name]: section } : {}), { mode: 0o600 });
  return { dir, home, config, destination: join(dir, 'backup', '{service}'), env: childEnv(subject.name) };
}

/** Every file under `dir` with its bytes, as one comparable text ('' when there is no such folder). */
export function treePicture(dir: string): string {
  if (!existsSync(dir)) return '';
  const lines: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else lines.push(`${path} ${entry.isFile() ? readFileSync(path).toString('base64') : 'other'}`);
    }
  };
  walk(dir);
  return lines.join('\n') || 'empty';
}

/** Where a restore goes and how to look at it afterwards: a folder of the scratch, or a name on the user's server. */
export interface Destination {
  flag: '--to' | '--into';
  value: string;
  /** True when something is there now. */
  exists(): Promise<boolean>;
  /** What is there, to compare before and after a refused restore ('' where batt cannot look). */
  picture(): string;
  remove(): Promise<void>;
}

/** The restore destinations a test may use: new folders of the scratch, new database names, or the user's --into. */
export function destination(subject: Subject, scratch: Scratch, ctx: PluginContext, name: string): Destination {
  const { plugin } = subject;
  if (!plugin || plugin.targetsArePaths) {
    const dir = join(scratch.dir, name);
    return { flag: plugin ? '--to' : '--into', value: dir, exists: async () => existsSync(dir), picture: () => treePicture(dir), remove: async () => {} };
  }
  return {
    flag: '--into',
    value: name,
    exists: async () => (await plugin.planRestore?.(ctx, '', name))?.exists ?? false,
    picture: () => '',
    remove: async () => plugin.removeRestored?.(ctx, name),
  };
}

/** The backup the restore steps use: for a drop-in, the run's files together; else the first that restores into a new name. */
export function pickRestorable(subject: Subject, items: any[], into: string | undefined): any {
  const { plugin } = subject;
  if (!plugin || plugin.targetsArePaths || into) return items[0];
  // A backup whose default restore is not a new name (PostgreSQL's globals, all of MongoDB, a Redis server) needs --into.
  return items.find((i) => plugin.restoreInto?.(i.target, 1)?.includes(i.target));
}
