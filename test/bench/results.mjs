// What every benchmark script shares for `pnpm bench` (test/bench/all.mjs): the options `--quick`
// (small sizes, few rounds) and `--result FILE` (append this script's figures to FILE as JSON
// lines), the row each figure becomes, and the table the rows are printed as.
//
// A row: { bench, what, figure, unit, reference, ratio, target, met, note?, skipped? }
//   bench      the script's short name (files, stream, start-up, mysql, postgresql, catalog, ...)
//   what       what was measured, against what, at which size
//   figure     batt's number (seconds, MB, ms, a ratio ...) in `unit`; null when there is none
//   reference  the reference's number, with its unit, as text ('' when there is none)
//   ratio      figure against the reference (null when the row has none)
//   target     the target as the issue gives it ('' when the row is for information)
//   met        true, false, or null (no target)
//   skipped    why the figure was not measured (a tool is missing ...)
//   crashed    set by all.mjs instead when the benchmark crashed before it gave the figure
import { appendFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** parseArgs options every script takes. */
export const resultOptions = { quick: { type: 'boolean' }, result: { type: 'string' } };

/** Node's `--` (from `pnpm bench -- --quick`) dropped, so `--quick` after it is still an option. */
export const cliArgs = () => process.argv.slice(2).filter((arg) => arg !== '--');

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Appends the rows to `file` (nothing without one). */
export function writeResults(file, rows) {
  if (!file) return;
  appendFileSync(file, rows.map((r) => JSON.stringify(r) + '\n').join(''));
}

/** A row with its verdict worked out from `ok` (undefined: no target). */
export function row(bench, what, { figure = null, unit = '', reference = '', ratio = null, target = '', ok, note } = {}) {
  return { bench, what, figure, unit, reference, ratio, target, met: target && ok !== undefined ? Boolean(ok) : null, ...(note ? { note } : {}) };
}

/** A time against a reference time, met when the ratio is at most `max`. */
export const timeRow = (bench, what, { seconds, reference, ratio, max }) =>
  row(bench, what, { figure: seconds, unit: 's', reference: `${reference.toFixed(2)} s`, ratio, target: `<= ${max.toFixed(2)}`, ok: ratio <= max });

/** A row for a figure that was not measured, and why. */
export const skippedRow = (bench, what, target, why) => ({ bench, what, figure: null, unit: '', reference: '', ratio: null, target, met: null, skipped: why });

const figureText = (r) => {
  if (r.figure === null || r.figure === undefined) return '-';
  if (typeof r.figure !== 'number') return `${r.figure}${r.unit ? ` ${r.unit}` : ''}`;
  const digits = r.unit === 's' ? (r.figure < 1 ? 3 : 2) : r.unit === 'x' ? 2 : r.unit === 'ms' ? (r.figure < 100 ? 1 : 0) : Math.abs(r.figure) < 10 ? 2 : 0;
  return `${r.figure.toFixed(digits)}${r.unit ? ` ${r.unit}` : ''}`;
};
const metText = (r) => r.crashed ?? (r.skipped ? `skipped: ${r.skipped}` : r.met === null ? '' : r.met ? 'yes' : 'NO');

/** A table (its first row the heads) as lines of text under a rule, the columns at `right` right-aligned. */
export function textTable(table, right) {
  const widths = table[0].map((_, c) => Math.max(...table.map((cells) => cells[c].length)));
  const line = (cells) =>
    cells
      .map((cell, c) => (right.includes(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(table[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...table.slice(1).map(line)];
}

/** The rows as a table of text lines (figures and ratios right-aligned), notes below it. */
export function formatTable(rows) {
  const table = [['bench', 'what', 'figure', 'reference', 'ratio', 'target', 'met']];
  const notes = [];
  for (const r of rows) {
    let what = r.what.replace(/\s*\n\s*/g, ' ');
    if (r.note) {
      notes.push(r.note);
      what += ` [${notes.length}]`;
    }
    table.push([r.bench, what, figureText(r), r.reference ?? '', typeof r.ratio === 'number' ? r.ratio.toFixed(2) : '', r.target ?? '', metText(r)]);
  }
  const lines = textTable(table, [2, 3, 4]);
  notes.forEach((n, i) => lines.push(`[${i + 1}] ${n}`));
  return lines;
}

/** One line on the machine: Node's version, the cores, and the mode. */
export const machineLine = (quick) => `node ${process.version}, ${availableParallelism()} cores${quick ? ', --quick' : ''}`;
