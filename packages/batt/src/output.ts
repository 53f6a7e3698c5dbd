/**
 * Printing for people and for scripts: aligned tables and colours on a terminal, JSON with
 * --json. Data goes to stdout; progress and errors go to stderr.
 *
 * Names and messages from outside batt (paths, targets, a tool's output) are escaped where they
 * are written (printable: a newline in a path shows as \n, an escape sequence as \x1b), so they
 * can neither forge a line nor drive the terminal. Text batt made itself, its colours included,
 * is a Safe and printed as it is: `out`/`err` and printTable escape every other value.
 */
import chalk from 'chalk';
import { printable } from '@batt/core/text/printable';

export { humanBytes } from '@batt/core/text/names';

/** Text batt made itself (a coloured status, lines built with `text`): printed as it is. */
export class Safe {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type Cell = string | Safe;

const shown = (value: unknown): string => (value instanceof Safe ? value.text : printable(String(value)));

/** A template whose values are escaped (see printable) unless they are Safe; the literal parts are batt's. */
export function text(strings: TemplateStringsArray, ...values: unknown[]): Safe {
  return new Safe(strings.reduce((all, part, i) => all + shown(values[i - 1]) + part));
}

/** Writes text`…` to stdout. */
export function out(strings: TemplateStringsArray, ...values: unknown[]): void {
  process.stdout.write(text(strings, ...values).text);
}

/** Writes text`…` to stderr. */
export function err(strings: TemplateStringsArray, ...values: unknown[]): void {
  process.stderr.write(text(strings, ...values).text);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * printJson of `{ ...head, [key]: [...list] }`, byte for byte, with the list written as it is
 * read, about 1 MiB at a time: a listing of millions of entries never becomes one string (V8
 * refuses strings over 512 MiB) nor one array.
 */
export function printJsonList(head: object, key: string, list: Iterable<unknown>): void {
  const opening = JSON.stringify({ ...head, [key]: [] }, null, 2);
  // The empty list is the last member: `[]` is followed by a newline and the closing brace.
  const at = opening.lastIndexOf('[]');
  let chunk = opening.slice(0, at + 1);
  let first = true;
  for (const entry of list) {
    chunk += `${first ? '' : ','}\n    ${JSON.stringify(entry, null, 2).replace(/\n/g, '\n    ')}`;
    first = false;
    if (chunk.length >= 1 << 20) {
      process.stdout.write(chunk);
      chunk = '';
    }
  }
  process.stdout.write(`${chunk}${first ? '' : '\n  '}${opening.slice(at + 1)}\n`);
}

/** Prints rows as columns padded to the widest cell (the last column is not padded); cells are escaped unless Safe. */
export function printTable(header: readonly string[], rows: readonly (readonly Cell[])[]): void {
  const all = [header, ...rows].map((r) => r.map(shown));
  const widths = header.map((_, i) => Math.max(...all.map((r) => visibleLength(r[i] ?? ''))));
  const line = (r: readonly string[]): string =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i] - visibleLength(cell))))
      .join('  ')
      .trimEnd();
  const [head, ...body] = all;
  process.stdout.write(`${chalk.bold(line(head))}\n`);
  for (const r of body) process.stdout.write(`${line(r)}\n`);
}

// eslint-disable-next-line no-control-regex
const visibleLength = (s: string): number => s.replace(/\u001b\[[0-9;]*m/g, '').length;

/**
 * A server or tool version without the build details: PostgreSQL's version() is a whole sentence
 * ("PostgreSQL 15.19 (Debian 15.19-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc …").
 */
export function shortVersion(version: string): string {
  return version
    .replace(/ \((?:Debian|Ubuntu|Red Hat|Homebrew)[^)]*\)/g, '')
    .replace(/ on [\w.-]+-(?:linux|darwin|freebsd|windows)[\w.-]*/, '')
    .replace(/, (?:compiled by|\d+-bit).*$/, '')
    .replace(/, for [\w.-]+ \([\w.-]+\)$/, '')
    .trim();
}

export function colourStatus(status: string): Safe {
  const word = printable(status);
  if (status === 'ok') return new Safe(chalk.green(word));
  if (status === 'partial' || status === 'running' || status === 'suspect') return new Safe(chalk.yellow(word));
  return new Safe(chalk.red(word));
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
