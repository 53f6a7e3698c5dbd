/**
 * Hooks (docs/hooks.md): commands run around a backup, for the whole run (`hooks:` at the top
 * level) and for one service (`hooks:` in its section): `before` its first dump, `after` its last
 * item whatever happened, and `on_failure` after it when an item failed. Each is an argv list run
 * without a shell, with the run's facts in its environment (BATT_HOOK, BATT_RUN_ID, BATT_SERVICE,
 * BATT_TARGETS, BATT_DEST, BATT_STATUS) and a timeout. A `before` that fails skips what it guards
 * (the run, or the service): its items fail with the reason. `after` and `on_failure` run even
 * then (to undo what a `before` did half way) and after an interrupt; one that fails is logged
 * as an error, and the backups it follows stay as they were.
 */
import type { ItemStatus } from '../catalog/schema.js';
import type { BattConfig } from '../config/load.js';
import { BattError, describeError } from '../errors/errors.js';
import { runTool } from '../exec/exec.js';
import type { Logger } from '../log/logger.js';
import { durationSetting } from './deadline.js';

export type HookKind = 'before' | 'after' | 'on_failure';
type HookConfig = BattConfig['hooks'];

const defaultTimeout = 300;

/** A hooks section's timeout in seconds; throws CONFIG for one that is no duration. */
export function hookTimeout(hooks: HookConfig, where: string): number {
  return hooks?.timeout === undefined ? defaultTimeout : durationSetting(`${where}hooks.timeout`, hooks.timeout);
}

/** Runs `kind`'s commands of `hooks` in order, stopping at the first that fails; the failure, or undefined. */
export async function runHooks(
  kind: HookKind,
  hooks: HookConfig,
  scope: { where: string; env: Record<string, string>; signal: AbortSignal; log: Logger },
): Promise<BattError | undefined> {
  const timeout = hookTimeout(hooks, scope.where ? `${scope.where}.` : '');
  for (const argv of hooks?.[kind] ?? []) {
    const shown = argv.join(' ');
    scope.log.info(`${kind} hook: ${shown}`);
    const limit = AbortSignal.timeout(timeout * 1000);
    try {
      await runTool(argv[0], argv.slice(1), { env: { ...scope.env, BATT_HOOK: kind }, signal: AbortSignal.any([scope.signal, limit]) });
    } catch (error) {
      const why = limit.aborted && !scope.signal.aborted ? `did not finish within ${timeout}s (hooks.timeout)` : describeError(error);
      const failure = new BattError('TOOL_FAILED', `the ${kind} hook \`${shown}\`${scope.where ? ` of ${scope.where}` : ''} failed: ${why}`, {
        hint: 'run it by hand to see why; docs/hooks.md has what it gets in its environment',
      });
      scope.log.error(failure.message);
      return failure;
    }
  }
  return undefined;
}

/** The hooks of one run: the run's own, then each service's around its items. */
export class RunHooks {
  readonly #ready = new Map<string, Promise<BattError | undefined>>();
  readonly #left = new Map<string, number>();
  readonly #statuses = new Map<string, ItemStatus[]>();
  readonly #targets = new Map<string, string[]>();
  #runBefore: Promise<BattError | undefined> | undefined;

  constructor(
    private readonly config: BattConfig,
    private readonly base: { runId: number; signal: AbortSignal; log: Logger; destFor: (service: string) => string },
    units: readonly { service: string; target: string }[],
  ) {
    for (const u of units) {
      this.#left.set(u.service, (this.#left.get(u.service) ?? 0) + 1);
      this.#targets.set(u.service, [...(this.#targets.get(u.service) ?? []), u.target]);
    }
  }

  #env(service?: string, status?: string): Record<string, string> {
    return {
      BATT_RUN_ID: String(this.base.runId),
      ...(service ? { BATT_SERVICE: service, BATT_TARGETS: (this.#targets.get(service) ?? []).join(' '), BATT_DEST: this.base.destFor(service) } : {}),
      ...(status ? { BATT_STATUS: status } : {}),
    };
  }

  #hooksOf(service: string): HookConfig {
    return this.config.services[service]?.hooks as HookConfig;
  }

  /** Runs the run's `before` (once) and the service's (once); what stops its items, or undefined. */
  ready(service: string): Promise<BattError | undefined> {
    this.#runBefore ??= runHooks('before', this.config.hooks, { where: '', env: this.#env(), signal: this.base.signal, log: this.base.log });
    let ready = this.#ready.get(service);
    if (!ready) {
      const log = this.base.log.scoped(service);
      ready = this.#runBefore.then((failed) => failed ?? runHooks('before', this.#hooksOf(service), { where: service, env: this.#env(service), signal: this.base.signal, log }));
      this.#ready.set(service, ready);
    }
    return ready;
  }

  /** One of the service's items is done; after its last, the service's `after` and `on_failure`. */
  async itemDone(service: string, statuses: readonly ItemStatus[]): Promise<void> {
    this.#statuses.set(service, [...(this.#statuses.get(service) ?? []), ...statuses]);
    const left = (this.#left.get(service) ?? 1) - 1;
    this.#left.set(service, left);
    if (left > 0) return;
    const all = this.#statuses.get(service)!;
    const status = all.every((s) => s === 'ok') ? 'ok' : all.some((s) => s === 'ok') ? 'partial' : 'failed';
    await this.#after(this.#hooksOf(service), service, status);
  }

  /** The run is done: its own `after` and `on_failure`. */
  async runDone(status: string): Promise<void> {
    await this.#after(this.config.hooks, undefined, status);
  }

  async #after(hooks: HookConfig, service: string | undefined, status: string): Promise<void> {
    const scope = { where: service ?? '', env: this.#env(service, status), signal: new AbortController().signal, log: service ? this.base.log.scoped(service) : this.base.log };
    if (status !== 'ok') await runHooks('on_failure', hooks, scope);
    await runHooks('after', hooks, scope);
  }
}
