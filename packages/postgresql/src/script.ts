/**
 * A pg_dumpall script is code when psql runs it: a `\!` in it runs a shell command as root
 * (CVE-2025-8714). batt checks the script before psql starts, and then runs psql restricted, so
 * that psql itself refuses every backslash command too. The pure part lives here.
 */
import { randomBytes } from 'node:crypto';

/** pg_dumpall's own `\restrict KEY` and `\unrestrict KEY` lines, the only backslash commands it writes. */
const ownLine = /^\\(un)?restrict [A-Za-z0-9]+$/;

/** A character that continues an identifier: `a$b$` or `x1$` start no dollar quote, `namE'…'` no E'…' string. */
const identChar = /[A-Za-z0-9_$\u0080-\uffff]/;
const dollarTag = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

/**
 * The backslash commands psql would see in `script`, as `line N: \cmd …`. psql takes a backslash
 * outside quotes and comments as a command, even mid-line after a `;`. Skipped as psql skips
 * them: '…' strings, "…" identifiers, $tag$…$tag$ strings, `--` and nested `/* *\/` comments.
 * Inside '…' a backslash escapes the next character only when standard_conforming_strings is off
 * (always in E'…'); a script can turn that setting off itself, so it is read both ways and a
 * command either reading finds counts.
 */
export function backslashCommands(script: string): string[] {
  const found = new Map<number, string>();
  for (const standard of [true, false]) {
    for (const at of backslashes(script, standard, 10)) {
      const start = script.lastIndexOf('\n', at - 1) + 1;
      const end = script.indexOf('\n', at);
      const line = script.slice(0, start).split('\n').length;
      found.set(at, `line ${line}: ${script.slice(at, end < 0 ? undefined : end).slice(0, 80)}`);
    }
  }
  return [...found.entries()].sort(([a], [b]) => a - b).map(([, text]) => text);
}

/** Offsets of the first `max` backslashes outside quotes and comments, read with or without standard strings. */
function backslashes(s: string, standard: boolean, max: number): number[] {
  const found: number[] = [];
  let i = 0;
  while (i < s.length && found.length < max) {
    const c = s[i];
    if (c === '-' && s[i + 1] === '-') i = lineEnd(s, i);
    else if (c === '/' && s[i + 1] === '*') i = commentEnd(s, i);
    else if (c === "'") i = quoteEnd(s, i + 1, "'", !standard || (/[eE]/.test(s[i - 1] ?? '') && !identChar.test(s[i - 2] ?? '')));
    else if (c === '"') i = quoteEnd(s, i + 1, '"', false);
    else if (c === '$' && !identChar.test(s[i - 1] ?? '')) {
      dollarTag.lastIndex = i;
      const tag = dollarTag.exec(s)?.[0];
      const end = tag ? s.indexOf(tag, i + tag.length) : -1;
      i = !tag ? i + 1 : end < 0 ? s.length : end + tag.length;
    } else if (c === '\\') {
      found.push(i);
      i = lineEnd(s, i); // psql reads the command's arguments to the end of the line
    } else i++;
  }
  return found;
}

const lineEnd = (s: string, i: number): number => {
  const end = s.indexOf('\n', i);
  return end < 0 ? s.length : end + 1;
};

function commentEnd(s: string, i: number): number {
  let depth = 0;
  while (i < s.length) {
    if (s[i] === '/' && s[i + 1] === '*') [depth, i] = [depth + 1, i + 2];
    else if (s[i] === '*' && s[i + 1] === '/') {
      [depth, i] = [depth - 1, i + 2];
      if (depth === 0) return i;
    } else i++;
  }
  return i;
}

/** Past the closing quote: a doubled quote stays inside; with `escapes`, so does a backslashed character. */
function quoteEnd(s: string, i: number, quote: string, escapes: boolean): number {
  while (i < s.length) {
    if (escapes && s[i] === '\\') i += 2;
    else if (s[i] === quote && s[i + 1] === quote) i += 2;
    else if (s[i] === quote) return i + 1;
    else i++;
  }
  return i;
}

/**
 * The script as batt hands it to psql: its own `\restrict`/`\unrestrict` lines blanked (line
 * numbers stay), under a `\restrict` with a key of batt's that nothing in the script can know.
 * From that line on, psql refuses every backslash command: only `\unrestrict <that key>` would
 * end it. `refused`: any other backslash command the script holds (batt then runs none of it).
 */
export function restrictedScript(script: string): { text: string; refused: string[] } {
  const own = script
    .split('\n')
    .map((line) => (ownLine.test(line) ? '' : line))
    .join('\n');
  return { text: `\\restrict ${randomBytes(32).toString('hex')}\n${own}`, refused: backslashCommands(own) };
}
