/**
 * Destination patterns: strftime specifiers (as in the original batt's `--path`), plus the
 * `{service}` and `{host}` placeholders. Expansion is a pure function of the pattern, the run's
 * clock and the names, so it is tested with fixed dates. Unknown specifiers are an error: a
 * typo in a backup path must not silently become a literal folder name.
 */
import { format } from 'date-fns/format';
import { getDayOfYear } from 'date-fns/getDayOfYear';
import { getISOWeek } from 'date-fns/getISOWeek';
import { getISOWeekYear } from 'date-fns/getISOWeekYear';
import { BattError } from '../errors/errors.js';

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** Sunday- (or Monday-) based week of the year, as C's %U (%W). */
function weekOfYear(date: Date, mondayFirst: boolean): number {
  const yday = getDayOfYear(date) - 1;
  const wday = mondayFirst ? (date.getDay() + 6) % 7 : date.getDay();
  return Math.floor((yday + 7 - wday) / 7);
}

const specifiers: Record<string, (d: Date) => string> = {
  Y: (d) => String(d.getFullYear()),
  y: (d) => format(d, 'yy'),
  C: (d) => pad(Math.floor(d.getFullYear() / 100)),
  m: (d) => format(d, 'MM'),
  d: (d) => format(d, 'dd'),
  e: (d) => String(d.getDate()).padStart(2, ' '),
  H: (d) => format(d, 'HH'),
  I: (d) => format(d, 'hh'),
  M: (d) => format(d, 'mm'),
  S: (d) => format(d, 'ss'),
  p: (d) => format(d, 'a').toUpperCase(),
  j: (d) => pad(getDayOfYear(d), 3),
  a: (d) => format(d, 'EEE'),
  A: (d) => format(d, 'EEEE'),
  b: (d) => format(d, 'MMM'),
  h: (d) => format(d, 'MMM'),
  B: (d) => format(d, 'MMMM'),
  u: (d) => String(d.getDay() === 0 ? 7 : d.getDay()),
  w: (d) => String(d.getDay()),
  U: (d) => pad(weekOfYear(d, false)),
  W: (d) => pad(weekOfYear(d, true)),
  V: (d) => pad(getISOWeek(d)),
  G: (d) => String(getISOWeekYear(d)),
  g: (d) => pad(getISOWeekYear(d) % 100),
  s: (d) => String(Math.floor(d.getTime() / 1000)),
  z: (d) => format(d, 'xx'),
  F: (d) => format(d, 'yyyy-MM-dd'),
  T: (d) => format(d, 'HH:mm:ss'),
  R: (d) => format(d, 'HH:mm'),
  D: (d) => format(d, 'MM/dd/yy'),
  '%': () => '%',
};

/** The strftime letters batt understands, for help text and error messages. */
export const supportedSpecifiers = Object.keys(specifiers).map((k) => `%${k}`);

export interface ExpandValues {
  service: string;
  host: string;
}

const placeholders = new Set(['service', 'host']);

/**
 * Expands `pattern` for one service at one instant. Throws PATH_PATTERN for an unknown
 * `%x` specifier or `{name}` placeholder.
 */
export function expandPattern(pattern: string, date: Date, values: ExpandValues): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '%') {
      const spec = pattern[i + 1];
      const fn = spec === undefined ? undefined : specifiers[spec];
      if (!fn) {
        throw new BattError('PATH_PATTERN', `unknown date specifier "%${spec ?? ''}" in path "${pattern}"`, {
          hint: `use one of ${supportedSpecifiers.join(' ')} (write %% for a literal %)`,
        });
      }
      out += fn(date);
      i++;
    } else if (ch === '{') {
      const end = pattern.indexOf('}', i);
      const name = end === -1 ? '' : pattern.slice(i + 1, end);
      if (!placeholders.has(name)) {
        throw new BattError('PATH_PATTERN', `unknown placeholder "${end === -1 ? pattern.slice(i) : `{${name}}`}" in path "${pattern}"`, {
          hint: 'the placeholders are {service} and {host}',
        });
      }
      out += values[name as keyof ExpandValues];
      i = end;
    } else {
      out += ch;
    }
  }
  return out;
}

/** The pattern with `/{service}` appended when it names no service (docs/configuration.md, `destination`). */
export function withServicePlaceholder(pattern: string): string {
  if (pattern.includes('{service}')) return pattern;
  return `${pattern.replace(/\/+$/, '')}/{service}`;
}

/** Throws PATH_PATTERN if the pattern cannot be expanded; used before a run starts. */
export function validatePattern(pattern: string): void {
  expandPattern(pattern, new Date(0), { service: 'service', host: 'host' });
}

/**
 * The folder a pattern never goes above: its leading components without a specifier or
 * placeholder (`/opt/backup/%Y/%m/{service}` → `/opt/backup`). Prune removes emptied folders
 * up to, never including, this root.
 */
export function staticRoot(pattern: string): string {
  const parts = pattern.split('/');
  const fixed: string[] = [];
  for (const part of parts) {
    if (/[%{]/.test(part)) break;
    fixed.push(part);
  }
  return fixed.join('/') || '/';
}
