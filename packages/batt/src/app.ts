/**
 * What every command needs, built once per invocation: the home (created and seeded on first
 * use), the registered built-in plugins and the services found in scripts-available/.
 */
import { existsSync } from 'node:fs';
import { ensureHome, layoutOf, resolveHome, type HomeLayout } from '@batt/core/home/home';
import { discoverServices, type Service } from '@batt/core/plugins/discovery';
import { PluginRegistry } from '@batt/core/plugins/registry';
import { filePlugin } from '@batt/file';
import { mongodbPlugin } from '@batt/mongodb';
import { mysqlPlugin } from '@batt/mysql';
import { postgresqlPlugin } from '@batt/postgresql';
import { redisPlugin } from '@batt/redis';
import { givenTwice } from './usage.js';

export interface App {
  home: HomeLayout;
  registry: PluginRegistry;
  services: Service[];
}

export function builtins(): PluginRegistry {
  return new PluginRegistry().register(filePlugin).register(mysqlPlugin).register(postgresqlPlugin).register(redisPlugin).register(mongodbPlugin);
}

/** `--help` or `--version` anywhere before `--`: batt only prints. */
function onlyPrints(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h' || a === '--version' || a === '-V');
}

/** `argv`: help and the version read the home as it is, and never make one that is not there yet. */
export function loadApp(homeFlag: string | undefined, argv: readonly string[] = []): App {
  const root = resolveHome(homeFlag);
  const home = onlyPrints(argv) && !existsSync(root) ? layoutOf(root) : ensureHome(root);
  const registry = builtins();
  return { home, registry, services: discoverServices(home, registry) };
}

/** `--home` as given on the command line, before yargs parses anything (and before any home is made): given twice is an error. */
export function peekHome(argv: readonly string[]): string | undefined {
  const homes: string[] = [];
  for (let i = 0; i < argv.length && argv[i] !== '--'; i++) {
    if (argv[i] === '--home') homes.push(argv[++i]);
    else if (argv[i].startsWith('--home=')) homes.push(argv[i].slice('--home='.length));
  }
  if (homes.length > 1) givenTwice('home', homes);
  return homes[0];
}
