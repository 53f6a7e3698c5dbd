/**
 * The contract every built-in service implements. A plugin lists its targets (databases,
 * paths), turns one target into a stream of bytes that the core compresses, hashes and
 * writes, restores from such a stream, and checks itself. It never writes a backup file:
 * the core owns the stream. Everything it needs arrives through its context.
 *
 * Longer than 200 lines because it is the whole contract, each member with its doc comment: a
 * plugin author reads one file to learn everything a plugin is and gets.
 */
import type { Readable, Transform } from 'node:stream';
import type { Logger } from '../log/logger.js';
import type { ConfigKeys, ConfigOf } from '../config/schema.js';
import { runTool, spawnTool, type ToolOptions, type ToolProcess, type ToolResult } from '../exec/exec.js';

/** Facts a plugin records about one dump, for later checks (row counts, versions, …). */
export interface ItemFacts {
  toolVersion?: string;
  serverVersion?: string;
  /** Free-form facts stored as JSON: row counts per table, key counts, file counts. */
  facts?: Record<string, unknown>;
  /** Non-fatal problems (tar's "file changed as we read it"), kept with the item. */
  warnings?: string[];
}

export interface BackupStream {
  /** The dump's bytes, uncompressed. */
  stream: Readable;
  /**
   * Settles when the dump process is finished: resolves with its facts only when the dump is
   * known complete, rejects otherwise. The core fails the item if it rejects, even when the
   * stream ended cleanly.
   */
  done: Promise<ItemFacts>;
  /** Called once the item is over, whatever happened. */
  dispose?(): void | Promise<void>;
}

/**
 * A dump that is one command writing the backup to its stdout (tar, mysqldump, pg_dump, …).
 * The core starts it itself, so the command can write straight into the compressor's pipe
 * without its bytes passing through Node.
 */
export interface BackupCommand {
  command: string;
  /** argv after the command; never joined into a shell line. */
  args: readonly string[];
  /** Extra environment (secrets go here or in files, never in args). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Debian package for the "install it" hint when the command is missing. */
  debianPackage?: string;
  /**
   * A transform the dump's bytes pass through, unchanged, on their way to the compressor: it
   * can count and check what it sees (rows, a trailer). The bytes then pass through Node.
   */
  through?: Transform;
  /**
   * About how many bytes the dump will be, where the plugin knows without a cost of its own (the
   * table sizes it read anyway). A dump under `smallDump` is compressed in-process where Node has
   * zstd, and its tool writes without stdbuf: two processes fewer per item, which is most of an
   * item's cost when there are hundreds of small ones. A wrong guess costs speed, never bytes.
   */
  expectedBytes?: number;
  /** Judges the finished command: returns facts, or throws when the dump is not whole. */
  finish(result: ToolResult): ItemFacts | Promise<ItemFacts>;
  /** Called once the item is over, whatever happened: remove credential files and the like. */
  dispose?(): void | Promise<void>;
}

/** The subprocess helpers, bound to the run's signal: an interrupted run kills what they started. */
export interface PluginExec {
  /** runTool: runs a tool to its end and returns its stdout. */
  run(file: string, args: readonly string[], options?: Omit<ToolOptions, 'signal' | 'service'>): Promise<string>;
  /** spawnTool: starts a tool whose input or output is a stream. */
  spawn(file: string, args: readonly string[], options?: Omit<ToolOptions, 'signal' | 'service'>): Promise<ToolProcess>;
}

export interface PluginContext<K extends ConfigKeys = ConfigKeys> {
  /** The service's configuration section, already validated against the plugin's `configKeys`. */
  config: ConfigOf<K>;
  /** The log, scoped to the service. */
  log: Logger;
  /** Aborted when the run is interrupted: stop work and kill children. */
  signal: AbortSignal;
  /** Starts tools that are killed when `signal` aborts. */
  exec: PluginExec;
  runId: number;
  home: string;
}

/** What a restore reads: the artifact, as often as it needs, and what was recorded with it. */
export interface RestoreSource {
  /** A fresh stream of the artifact's uncompressed bytes, from the start. */
  open(): Readable;
  /** Facts recorded at backup time (row counts per table, key counts, …). */
  facts: Record<string, unknown>;
  /** The item's catalog id: part of scratch names, so two drills never collide. */
  itemId: number;
}

export interface RestoreOptions {
  /** Where to restore: a database name, a folder, or host:port for redis. */
  into: string;
  /** Replace an existing target (drop it first, or overwrite files). */
  force: boolean;
  /**
   * Restore into a temporary target first and swap it in for `into` only when that restore and
   * its checks passed: a failed restore leaves the old `into` untouched (mirror prod).
   */
  replace: boolean;
  /** Parallel jobs for tools that take them (pg_restore -j). */
  jobs: number;
}

/** One named check of a restore or verify, as stored in the catalog. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** What a restore is about to do, for the plan shown before anything is touched. */
export interface RestorePlan {
  /** Where it goes, as the user should read it ("database shop_restore_3"). */
  label: string;
  /** True when `into` exists now (a restore then needs --force or --replace). */
  exists: boolean;
}

/** One line of `batt doctor`: what was checked, whether it passed, what was found, and the fix when it failed. */
export interface DoctorCheck {
  /** Short and stable ("client tools", "credentials", "privileges"): `--json` consumers match on it. */
  name: string;
  ok: boolean;
  /** What was found: a version, a count, the error. Never a secret. */
  detail: string;
  /** What to do about a failure: a command, a config key, a package to install. */
  fix?: string;
}

/**
 * A plugin, typed by its configuration keys: its methods read `ctx.config` as those keys say.
 * `Plugin` (the keys erased) is what the registry holds; the methods are declared as methods,
 * so a `Plugin<K>` is one.
 */
export interface Plugin<K extends ConfigKeys = ConfigKeys> {
  /** The one name used for folder, package, script, config key and catalog value. */
  name: string;
  aliases?: readonly string[];
  /** One line for `batt list` and `--help`. */
  summary: string;
  /**
   * The option that names targets, repeatable: 'file' gives `--file PATH`, 'mysql-db' gives
   * `--mysql-db NAME`. Using it implies the service.
   */
  targetOption: { name: string; aliases?: readonly string[]; describe: string };
  /** The service's configuration keys, validated before anything runs. */
  configKeys: K;
  /**
   * Targets are filesystem paths: the catalog stores them absolute (`./docs` means the folder it
   * names), and a restore goes into a folder (`--to`) before a name (`--into`).
   */
  targetsArePaths?: boolean;
  /** `batt restore --replace`: restores beside the target, checks it, then swaps it in. */
  canReplace?: boolean;
  /** The file suffix of an uncompressed artifact, e.g. '.tar' or '.sql' (or one per target). */
  extension: string | ((target: string) => string);
  /**
   * The targets to back up: `requested` (from the target option) when given, else what the
   * configuration or the server lists. An empty result is an error the plugin explains.
   */
  listTargets(ctx: PluginContext<K>, requested: readonly string[]): Promise<string[]>;
  /**
   * Starts the dump of one target, as a stream or as a command for the core to run.
   * Throwing fails just this item.
   */
  backup(ctx: PluginContext<K>, target: string): Promise<BackupStream | BackupCommand>;
  /** The default `into` of a restore: a new name, never the original. */
  restoreInto?(target: string, runId: number): string;
  /** Looks at the restore's destination without changing anything. */
  planRestore?(ctx: PluginContext<K>, target: string, into: string): Promise<RestorePlan>;
  /**
   * Restores one artifact and checks the result against the recorded facts. Refuses an
   * existing `into` unless `force` or `replace`; throws when the restore or a check fails.
   */
  restore?(ctx: PluginContext<K>, target: string, source: RestoreSource, options: RestoreOptions): Promise<Check[]>;
  /** Format completeness of an artifact (a trailer, a listing, a checker tool); reads the source once. */
  verify?(ctx: PluginContext<K>, target: string, source: RestoreSource): Promise<Check[]>;
  /**
   * A restore drill: restores into a scratch target (a scratch database or server, a temporary
   * folder), compares it with the recorded facts, and removes the scratch target again.
   */
  restoreTest?(ctx: PluginContext<K>, target: string, source: RestoreSource): Promise<Check[]>;
  /**
   * Removes what a restore made under the name `into` (a database), for `batt plugin test`, which
   * cleans up after itself. Only ever called with a name the test made up and restored into.
   */
  removeRestored?(ctx: PluginContext<K>, into: string): Promise<void>;
  /**
   * `batt doctor`: checks, without changing anything, what a backup of the configured targets
   * needs: the tools present and new enough for the server, the credentials, the targets
   * listable, the privileges a consistent dump takes. A check that cannot run because an earlier
   * one failed is left out. Never throws: a failure is a check with `ok: false` and its fix.
   */
  doctor?(ctx: PluginContext<K>): Promise<DoctorCheck[]>;
}

/** What a command holds that a plugin's context is made from. */
export interface ContextSource {
  config: { services: Record<string, Record<string, unknown>> };
  log: Logger;
  signal: AbortSignal;
  home: { root: string };
}

/** A plugin's context for one service: its config section, a log scoped to it, the signal and tools bound to it. */
export function pluginContext(from: ContextSource, service: string, runId: number): PluginContext {
  const { signal } = from;
  return {
    // Validated against the service's keys when the configuration was loaded (config/load.ts).
    config: (from.config.services[service] ?? {}) as ConfigOf<ConfigKeys>,
    log: from.log.scoped(service),
    signal,
    exec: {
      run: (file, args, options) => runTool(file, args, { ...options, signal, service }),
      spawn: (file, args, options) => spawnTool(file, args, { ...options, signal, service }),
    },
    runId,
    home: from.home.root,
  };
}

/** Identity helper that gives plugin objects their type at the definition site, `ctx.config` typed from `configKeys`. */
export function definePlugin<const K extends ConfigKeys>(plugin: Plugin<K>): Plugin<K> {
  return plugin;
}

/** Identity helper for configuration keys declared apart from their plugin: keeps each key's type for `PluginContext<typeof keys>`. */
export function defineConfigKeys<const K extends ConfigKeys>(keys: K): K {
  return keys;
}
