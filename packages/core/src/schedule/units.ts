/**
 * What `batt schedule --print` writes: a systemd service and timer pair, and a cron line, that
 * run batt with this home and configuration at the time `schedule:` names (docs/scheduling.md).
 * Pure text from its inputs; every argument quoted for the file it goes into, so a path with a
 * space, a quote or a `%` stays one argument and means itself.
 */
import { BattError } from '../errors/errors.js';

export interface ScheduleRequest {
  /** The command that runs batt, absolute: node, batt's script, then --home and --config. */
  command: readonly string[];
  /** The `schedule:` key as configured; undefined: 03:00 every day. */
  schedule: string | undefined;
  /** The units' name: `<unit>.service` and `<unit>.timer`. */
  unit: string;
  /** The user the service runs as, when it is not root. */
  user: string | undefined;
  /** batt's home, for the descriptions. */
  home: string;
}

export const defaultSchedule = '03:00';
/** How far systemd spreads the start (RandomizedDelaySec): hosts sharing a storage do not all upload at once. */
export const randomizedDelay = '15min';

const docs = 'docs/scheduling.md';
const bad = (schedule: string, why: string): BattError =>
  new BattError('CONFIG', `schedule "${schedule}" ${why}`, {
    hint: `use HH:MM (every day), hourly, daily, weekly, monthly, or a systemd calendar such as "Mon..Fri *-*-* 02:30" (${docs}; \`systemd-analyze calendar\` checks one)`,
  });

const shorthands: Record<string, [calendar: string, cron: string]> = {
  hourly: ['hourly', '0 * * * *'],
  daily: ['daily', '0 0 * * *'],
  weekly: ['weekly', '0 0 * * 1'],
  monthly: ['monthly', '0 0 1 * *'],
};

/** `schedule:` as a systemd OnCalendar= value. */
export function calendarOf(schedule = defaultSchedule): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(schedule) || schedule.trim() === '') throw bad(schedule, 'is empty or holds a control character');
  const time = /^(\d{1,2}):(\d{2})$/.exec(schedule);
  if (time) {
    if (Number(time[1]) > 23 || Number(time[2]) > 59) throw bad(schedule, 'is no time of day');
    return `*-*-* ${time[1].padStart(2, '0')}:${time[2]}:00`;
  }
  return shorthands[schedule]?.[0] ?? schedule;
}

const days: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 0 };

/** A systemd weekday list (`Mon..Fri,Sun`) as cron's (`1-5,0`); Sunday ends a range as 7. */
function cronDays(list: string, schedule: string): string {
  return list
    .split(',')
    .map((part) => {
      const [from, to] = part.split('..');
      const a = days[from.slice(0, 3)];
      const b = to === undefined ? undefined : days[to.slice(0, 3)];
      if (a === undefined || (to !== undefined && b === undefined)) throw bad(schedule, `names no weekday in "${part}"`);
      return b === undefined ? String(a) : `${a}-${b === 0 ? 7 : b}`;
    })
    .join(',');
}

/** An hour or minute field: `*`, `3`, `0,30`, or `0/15` (every 15 from 0). */
function cronField(field: string, max: number, schedule: string): string {
  if (field === '*') return '*';
  const step = /^(\d{1,2})\/(\d{1,2})$/.exec(field);
  if (step) return `${Number(step[1])}-${max}/${Number(step[2])}`;
  if (/^\d{1,2}(,\d{1,2})*$/.test(field) && field.split(',').every((n) => Number(n) <= max)) return field.split(',').map(Number).join(',');
  throw bad(schedule, 'has no cron form batt can write: write the cron line yourself');
}

/** `schedule:` as cron's five time fields; throws CONFIG for a calendar cron cannot say. */
export function cronTimeOf(schedule = defaultSchedule): string {
  const calendar = calendarOf(schedule);
  const short = shorthands[calendar]?.[1];
  if (short) return short;
  const m = /^(?:([A-Za-z.,]+) )?\*-\*-(\*|\d{1,2}) ([\d*,/]+):([\d*,/]+)(?::0?0)?$/.exec(calendar);
  if (!m) throw bad(schedule, 'has no cron form batt can write: write the cron line yourself');
  const [, weekdays, day, hour, minute] = m;
  return `${cronField(minute, 59, schedule)} ${cronField(hour, 23, schedule)} ${day === '*' ? '*' : Number(day)} * ${weekdays ? cronDays(weekdays, schedule) : '*'}`;
}

/** Refuses an argument no unit file or crontab line can hold. */
function printableArg(arg: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(arg))
    throw new BattError('USAGE', `cannot schedule ${JSON.stringify(arg)}: it holds a control character`, { hint: 'use a home and config path without one' });
  return arg;
}

/** One argument of ExecStart=: double-quoted when it must be, `%` and `$` doubled (systemd.service(5)). */
export function systemdArg(arg: string): string {
  const escaped = printableArg(arg).replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? escaped : `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * One argument of a cron command: single-quoted for /bin/sh when it must be, then `\` and `%`
 * escaped for cron, which turns `\\` back into `\`, `\%` into `%`, and a bare `%` into a newline.
 */
export function shellArg(arg: string): string {
  const quoted = /^[A-Za-z0-9_@%+=:,./-]+$/.test(printableArg(arg)) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
  return quoted.replace(/\\/g, '\\\\').replace(/%/g, '\\%');
}

/** Text for a unit's Description=: specifiers escaped. */
const described = (text: string): string => printableArg(text).replace(/%/g, '%%');

/** The service and timer units, each with its path in /etc/systemd/system/ as a first comment. */
export function systemdUnits(request: ScheduleRequest): { service: string; timer: string } {
  const { unit, home } = request;
  const service = [
    `# /etc/systemd/system/${unit}.service: written by \`batt schedule --print\` (${docs})`,
    '[Unit]',
    `Description=batt: back up every enabled service (home ${described(home)})`,
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${request.command.map(systemdArg).join(' ')}`,
    ...(request.user ? [`User=${request.user}`] : []),
    'Nice=10',
    'IOSchedulingClass=best-effort',
    'IOSchedulingPriority=7',
    '# Exit 75: another batt run held the lock, so this one was skipped; lock_wait: SECONDS waits instead.',
    '# A home configured by environment variables: EnvironmentFile=/etc/batt/env (mode 0600).',
    '',
  ].join('\n');
  const timer = [
    `# /etc/systemd/system/${unit}.timer: written by \`batt schedule --print\` (${docs})`,
    '[Unit]',
    `Description=batt: when to back up (home ${described(home)})`,
    '',
    '[Timer]',
    `OnCalendar=${calendarOf(request.schedule)}`,
    `RandomizedDelaySec=${randomizedDelay}`,
    'Persistent=true',
    `Unit=${unit}.service`,
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
  return { service, timer };
}

/** A line for /etc/cron.d/<unit> (with its user field), quiet so cron mails only errors. */
export function cronLine(request: ScheduleRequest): string {
  return [
    `# /etc/cron.d/${request.unit}: written by \`batt schedule --print --cron\` (${docs}); for \`crontab -e\` leave out the user`,
    `${cronTimeOf(request.schedule)} ${request.user ?? 'root'} ${[...request.command, '-q'].map(shellArg).join(' ')}`,
    '',
  ].join('\n');
}
