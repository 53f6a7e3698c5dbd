/**
 * Calendar arithmetic for retention: local time as fast numbers, ISO weeks, and how a reason
 * names a bucket ("2026-W47") or an age ("30d").
 */
export const CALENDAR = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
export type CalendarUnit = (typeof CALENDAR)[number];
export const MS_HOUR = 3_600_000;
export const MS_DAY = 86_400_000;

/**
 * Local wall-clock time, as ms that read as local time through UTC getters. Asking Date for the
 * local offset is the slow part of planning, so a UTC day that starts and ends on the same
 * offset is taken to have it throughout (zones change offset at most once a day); only a day
 * with a change asks per backup. Months are likewise asked once per month of backups.
 */
export class LocalCalendar {
  private readonly date = new Date(0);
  private offsetFrom = Infinity;
  private offsetTo = -Infinity;
  private offset = 0;
  private monthFrom = Infinity;
  private monthTo = -Infinity;
  private monthNumber = 0;

  local(t: number): number {
    if (!(t >= this.offsetFrom && t <= this.offsetTo)) {
      this.offset = this.offsetAt(t);
      const dayStart = Math.floor(t / MS_DAY) * MS_DAY;
      const steady = this.offsetAt(dayStart) === this.offset && this.offsetAt(dayStart + MS_DAY - 1) === this.offset;
      this.offsetFrom = steady ? dayStart : t;
      this.offsetTo = steady ? dayStart + MS_DAY - 1 : t;
    }
    return t + this.offset;
  }

  /** year * 12 + month (0-11) of local ms. */
  month(local: number): number {
    if (!(local >= this.monthFrom && local < this.monthTo)) {
      this.date.setTime(local);
      const year = this.date.getUTCFullYear();
      const month = this.date.getUTCMonth();
      this.monthNumber = year * 12 + month;
      this.monthFrom = Date.UTC(year, month, 1);
      this.monthTo = Date.UTC(year, month + 1, 1);
    }
    return this.monthNumber;
  }

  private offsetAt(t: number): number {
    this.date.setTime(t);
    return -this.date.getTimezoneOffset() * 60_000;
  }
}

/**
 * The bucket of local ms for a calendar rule, as a number: local hours, days, Mondays, months or
 * years. Keys grow with local time; no strings per backup.
 */
export function bucketKey(unit: CalendarUnit, local: number, calendar: LocalCalendar): number {
  if (unit === 'hourly') return Math.floor(local / MS_HOUR);
  if (unit === 'daily') return Math.floor(local / MS_DAY);
  if (unit === 'weekly') return mondayOf(Math.floor(local / MS_DAY));
  if (unit === 'monthly') return calendar.month(local);
  return Math.floor(calendar.month(local) / 12);
}

/** Day number of the Monday starting the ISO week of a day number (day 0, 1970-01-01, was a Thursday). */
export function mondayOf(day: number): number {
  return day - ((((day + 3) % 7) + 7) % 7);
}

/** How a reason names the bucket of local ms: 2026-11-20 14h, 2026-11-20, 2026-W47, 2026-11, 2026. */
export function bucketLabel(unit: CalendarUnit, local: number): string {
  const d = new Date(local);
  const year = d.getUTCFullYear();
  const date = `${year}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  if (unit === 'hourly') return `${date} ${pad(d.getUTCHours())}h`;
  if (unit === 'daily') return date;
  if (unit === 'weekly') return isoWeekLabel(mondayOf(Math.floor(local / MS_DAY)));
  if (unit === 'monthly') return `${year}-${pad(d.getUTCMonth() + 1)}`;
  return String(year);
}

/** YYYY-Www of the ISO week starting on a day number: the week-year is the Thursday's year. */
function isoWeekLabel(monday: number): string {
  const thursday = monday + 3;
  const year = new Date(thursday * MS_DAY).getUTCFullYear();
  const week = Math.floor((thursday - Date.UTC(year, 0, 1) / MS_DAY) / 7) + 1;
  return `${year}-W${pad(week)}`;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** "30d", "36h", "90m", "45s" or "1500ms": the largest unit that divides evenly. */
export function formatMs(ms: number): string {
  for (const [unit, size] of [
    ['d', MS_DAY],
    ['h', MS_HOUR],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
