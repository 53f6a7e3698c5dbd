/**
 * Where keep rules come from: the command line (for every service it prunes), else the service's
 * own keep_* keys in the config, else the top level's. A service with no rule is left alone.
 */
import type { BattConfig } from '../config/load.js';
import { checkValue, globalKeys } from '../config/schema.js';
import { BattError } from '../errors/errors.js';
import { hasRules, type KeepRules } from './policy.js';

const counts = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;

/** Each age unit: the field of a local Date it moves back, and by how many of that field. */
const ageUnits = { h: ['Hours', 1], d: ['Date', 1], w: ['Date', 7], m: ['Month', 1], y: ['FullYear', 1] } as const;

/** `30d`, `12h`, `2w`, `6m`, `1y` or combinations (`1y6m`) → how far back from `now`, in ms. */
export function parseAge(text: string, now: Date): number | undefined {
  const trimmed = text.trim();
  if (!/^(\d+\s*[hdwmy]\s*)+$/i.test(trimmed)) return undefined;
  const cutoff = new Date(now.getTime());
  for (const [, n, unit] of trimmed.matchAll(/(\d+)\s*([hdwmy])/gi)) {
    const [field, times] = ageUnits[unit.toLowerCase() as keyof typeof ageUnits];
    cutoff[`set${field}`](cutoff[`get${field}`]() - times * Number(n));
  }
  const ms = now.getTime() - cutoff.getTime();
  return ms > 0 ? ms : undefined;
}

/** Rules as a user writes them: the counts of KeepRules, and the age as text (`30d`). */
export type RuleInput = Pick<KeepRules, (typeof counts)[number]> & { within?: string };

/** Builds rules from flags (USAGE errors) or config values (CONFIG errors); a bad age names `where`. */
export function toRules(input: RuleInput, now: Date, where: string, code: 'USAGE' | 'CONFIG' = 'CONFIG'): KeepRules {
  const rules: KeepRules = {};
  for (const k of counts) if (input[k] !== undefined) rules[k] = input[k];
  if (input.within !== undefined) {
    const ms = parseAge(input.within, now);
    if (ms === undefined) {
      throw new BattError(code, `${where} takes an age such as 30d, 12h, 2w, 6m or 1y, got "${input.within}"`, { hint: 'h hours, d days, w weeks, m months, y years' });
    }
    rules.withinMs = ms;
    rules.withinLabel = input.within.trim();
  }
  return rules;
}

/** The keep_* keys of one config section, checked (drop-in sections are not validated on load). */
function sectionRules(section: Record<string, unknown>, where: string, now: Date): KeepRules | undefined {
  const input: RuleInput = {};
  for (const k of counts) {
    const key = `keep_${k}`;
    if (section[key] !== undefined) input[k] = checkValue(globalKeys[key], section[key], key, where) as number;
  }
  if (section.keep_within !== undefined) input.within = checkValue(globalKeys.keep_within, section.keep_within, 'keep_within', where) as string;
  const rules = toRules(input, now, `${where}: keep_within`);
  return hasRules(rules) ? rules : undefined;
}

/** The rules for one service; undefined when neither flags nor config give any. */
export function rulesFor(service: string, config: BattConfig, flags: KeepRules | undefined, now: Date): KeepRules | undefined {
  if (flags && hasRules(flags)) return flags;
  const own = config.services[service];
  return (own && sectionRules(own, `config "${service}"`, now)) ?? sectionRules(config as unknown as Record<string, unknown>, 'config', now);
}

/** A rule set as the flags that would give it, for logs and the prunes table. */
export function describeRules(rules: KeepRules): string {
  const parts = counts.filter((k) => rules[k] !== undefined).map((k) => `--keep-${k} ${rules[k]}`);
  if (rules.withinLabel) parts.push(`--keep-within ${rules.withinLabel}`);
  return parts.join(' ');
}

/** Whether the service (or the top level) asks that only verified backups count. */
export function requiresVerified(service: string, config: BattConfig): boolean {
  return (config.services[service]?.require_verified as boolean | undefined) ?? config.require_verified ?? false;
}
