/**
 * What every command needs, built once per invocation: the home (created and seeded on first
 * use), the registered built-in plugins and the services found in scripts-available/.
 */
import { ensureHome, resolveHome, type HomeLayout } from '@batt/core/home/home';
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

export function loadApp(homeFlag: string | undefined): App {
  const home = ensureHome(resolveHome(homeFlag));
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
