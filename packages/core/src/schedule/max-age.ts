/**
 * How old a service's last good backup may be before `batt serve` shows it as late: its
 * `max_age` (its section's, else the top level's), else the period of `schedule:` and a quarter
 * of it (daily: 30h), so one late or slow run is not news but a missed one is.
 */
import { durationSetting } from '../backup/deadline.js';
import type { BattConfig } from '../config/load.js';
import { calendarOf, defaultSchedule } from './units.js';

const hour = 3600;
const periods: Record<string, number> = { hourly: hour, daily: 24 * hour, weekly: 7 * 24 * hour, monthly: 31 * 24 * hour };

/** The seconds between two runs of `schedule`; a calendar expression other than the shorthands counts as daily. */
export function periodOf(schedule = defaultSchedule): number {
  return periods[calendarOf(schedule)] ?? periods.daily;
}

/** A function giving each service's max age in seconds; throws CONFIG now for a value that is no duration. */
export function maxAgeOf(config: BattConfig): (service: string) => number {
  const fallback = config.max_age === undefined ? Math.round(periodOf(config.schedule) * 1.25) : durationSetting('max_age', config.max_age);
  const own = new Map(
    Object.entries(config.services).flatMap(([service, section]) =>
      section.max_age === undefined ? [] : [[service, durationSetting(`${service}: max_age`, section.max_age)] as const],
    ),
  );
  return (service) => own.get(service) ?? fallback;
}
