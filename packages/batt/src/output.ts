/**
 * Printing for people and for scripts: aligned tables and colours on a terminal, JSON with
 * --json. Data goes to stdout; progress and errors go to stderr.
 */
import chalk from 'chalk';

export { humanBytes } from '@batt/core/run/names';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints rows as columns padded to the widest cell (the last column is not padded). */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => visibleLength(r[i] ?? ''))));
  const line = (r: readonly string[]): string =>
    r.map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i] - visibleLength(cell)))).join('  ').trimEnd();
  process.stdout.write(`${chalk.bold(line(header))}\n`);
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
}

// eslint-disable-next-line no-control-regex
const visibleLength = (s: string): number => s.replace(/\u001b\[[0-9;]*m/g, '').length;

/**
 * A server or tool version without the build details: PostgreSQL's version() is a whole sentence
 * ("PostgreSQL 15.19 (Debian 15.19-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc …").
 */
export function shortVersion(version: string): string {
  return version.replace(/ \((?:Debian|Ubuntu|Red Hat|Homebrew)[^)]*\)/g, '').replace(/ on [\w.-]+-(?:linux|darwin|freebsd|windows)[\w.-]*/, '').replace(/, (?:compiled by|\d+-bit).*$/, '').replace(/, for [\w.-]+ \([\w.-]+\)$/, '').trim();
}

export function colourStatus(status: string): string {
  if (status === 'ok') return chalk.green(status);
  if (status === 'partial' || status === 'running' || status === 'suspect') return chalk.yellow(status);
  return chalk.red(status);
}

export function duration(start: string, end: string | null | undefined): string {
  if (!end) return '-';
  const s = (Date.parse(end) - Date.parse(start)) / 1000;
  return s < 60 ? `${s.toFixed(1)}s` : `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;
}

/** Local time without seconds' fractions, for tables. */
export function when(iso: string): string {
  const d = new Date(iso);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
