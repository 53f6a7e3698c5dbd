/**
 * The built-in plugins, registered explicitly by the CLI (as restic registers its backends):
 * registering a name or alias twice is an error, so two services can never claim one name.
 */
import type { Plugin } from './types.js';

export class PluginRegistry {
  private readonly byName = new Map<string, Plugin>();

  register(plugin: Plugin): this {
    for (const name of [plugin.name, ...(plugin.aliases ?? [])]) {
      const existing = this.byName.get(name);
      if (existing) throw new Error(`plugin name "${name}" is registered twice (${existing.name} and ${plugin.name})`);
      this.byName.set(name, plugin);
    }
    return this;
  }

  /** The plugin for a name or alias. */
  get(name: string): Plugin | undefined {
    return this.byName.get(name);
  }

  all(): Plugin[] {
    return [...new Set(this.byName.values())];
  }
}
