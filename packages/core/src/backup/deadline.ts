/**
 * An item's own abort signal: the run's, plus the service's `timeout` (the whole item) and
 * `stall_timeout` (no new bytes for that long). Either one kills the item's children through the
 * signal, and the item fails with a message that names the limit and the key that sets it,
 * instead of hanging for hours.
 */
import type { BattConfig } from '../config/load.js';
import { BattError } from '../errors/errors.js';

const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Seconds from `90`, `90s`, `30m`, `2h` or `1d`; undefined when it is none of those. Not
 * retention's parseAge: there `m` is a month, here a minute (as systemd and sleep(1) read it).
 */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/.exec(text);
  return m ? Number(m[1]) * units[m[2] || 's'] : undefined;
}

/** A duration setting in seconds; throws CONFIG naming `key` when `value` is none. */
export function durationSetting(key: string, value: unknown): number {
  const seconds = parseDuration(String(value));
  if (!seconds) throw new BattError('CONFIG', `${key} "${String(value)}" is not a duration`, { hint: 'write it as 90s, 30m, 2h or 1d' });
  return seconds;
}

const spoken = (seconds: number): string => (seconds % 3600 === 0 ? `${seconds / 3600}h` : seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`);

export interface Limits {
  timeout?: number;
  stall?: number;
}

/** A service's limits (its section's, else the top level's), in seconds; throws CONFIG for a value that is no duration. */
export function limitsOf(config: BattConfig, service: string): Limits {
  const section = config.services[service] ?? {};
  const read = (key: 'timeout' | 'stall_timeout'): number | undefined => {
    const value = (section[key] as string | undefined) ?? config[key];
    return value === undefined ? undefined : durationSetting(`${service}: ${key}`, value);
  };
  return { timeout: read('timeout'), stall: read('stall_timeout') };
}

export interface Deadline {
  signal: AbortSignal;
  /** New bytes arrived: the stall clock starts again. */
  touch(): void;
  /** Why the deadline stopped the item, when it did. */
  readonly reason: BattError | undefined;
  dispose(): void;
}

export function itemDeadline(run: AbortSignal, service: string, limits: Limits): Deadline {
  const controller = new AbortController();
  let reason: BattError | undefined;
  const stop = (error: BattError): void => {
    reason ??= error;
    controller.abort(error);
  };
  const timers: NodeJS.Timeout[] = [];
  if (limits.timeout) {
    const seconds = limits.timeout;
    timers.push(
      setTimeout(
        () => stop(new BattError('TIMEOUT', `stopped after ${spoken(seconds)}, its timeout`, { hint: `find out why it takes so long, or raise ${service}.timeout` })),
        seconds * 1000,
      ),
    );
  }
  let last = Date.now();
  if (limits.stall) {
    const seconds = limits.stall;
    timers.push(
      setInterval(
        () => {
          if (Date.now() - last < seconds * 1000) return;
          stop(
            new BattError('TIMEOUT', `stopped: no data for ${spoken(seconds)} (stall_timeout)`, {
              hint: `find out what the dump waits for (a lock?), or raise ${service}.stall_timeout`,
            }),
          );
        },
        Math.min(seconds * 250, 5000),
      ),
    );
  }
  return {
    signal: AbortSignal.any([run, controller.signal]),
    touch: () => void (last = Date.now()),
    get reason() {
      return reason;
    },
    dispose: () => timers.forEach(clearTimeout),
  };
}
