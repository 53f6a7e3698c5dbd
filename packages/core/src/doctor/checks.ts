/**
 * The steps of `batt doctor`, for the core and the plugins alike: a check is a small function
 * that returns what it found, or throws a BattError naming the problem and its fix. `probe`
 * turns either into one DoctorCheck; `DoctorChecks` collects them in order, so a plugin can
 * stop when a check the rest depend on (a tool, the connection) failed.
 */
import { BattError } from '../errors/errors.js';
import type { DoctorCheck } from '../plugins/types.js';

/** A failed check from what was thrown: the message as the detail, the hint as the fix. */
export function failedCheck(name: string, error: unknown): DoctorCheck {
  if (error instanceof BattError) return { name, ok: false, detail: error.message, ...(error.hint ? { fix: error.hint } : {}) };
  return { name, ok: false, detail: error instanceof Error ? error.message : String(error) };
}

/** Runs one check: what `check` returns is the detail of a passed check; what it throws, a failed one. */
export async function probe(name: string, check: () => string | Promise<string>): Promise<DoctorCheck> {
  try {
    return { name, ok: true, detail: await check() };
  } catch (error) {
    return failedCheck(name, error);
  }
}

/** Checks run one after another and kept in order. */
export class DoctorChecks {
  readonly all: DoctorCheck[] = [];

  /** Runs and records one check (see probe); resolves to whether it passed. */
  async run(name: string, check: () => string | Promise<string>): Promise<boolean> {
    const result = await probe(name, check);
    this.all.push(result);
    return result.ok;
  }
}

/** Names for a message: the first five, then how many there are in all. */
export const listed = (names: readonly string[]): string => `${names.slice(0, 5).join(', ')}${names.length > 5 ? `, … (${names.length})` : ''}`;

/**
 * The databases a backup of `service` would take, for its doctor's `targets` check: the ones
 * `<service>.databases` names, each of which the server must have (`all`), or else all it has but
 * those in `skip`.
 */
export function doctorTargets(service: string, all: readonly string[], configured: readonly string[], skip: ReadonlySet<string>): string[] {
  const missing = configured.filter((name) => !all.includes(name));
  if (missing.length) throw new BattError('NOT_FOUND', `${service}.databases names what the server has not: ${listed(missing)}`, { hint: `check ${service}.databases` });
  return configured.length ? [...configured] : all.filter((name) => !skip.has(name));
}
