/**
 * The byte-level reading of mysqldump lines that DumpFilter's scanner builds on: which table an
 * INSERT fills, how many rows one line of it holds (quotes and escapes respected), and where a
 * statement ends, and the rows of an INSERT written one per line as its chunks come. They read
 * the raw bytes; no line is decoded whole.
 */

export const NL = 0x0a;
export const startsWith = (line: Buffer, prefix: string): boolean => line.length >= prefix.length && line.toString('latin1', 0, prefix.length) === prefix;

/** The table name in "INSERT INTO `name` VALUES…" (backticks doubled inside). */
export function insertTable(line: Buffer): string {
  const text = line.toString('utf8', 0, Math.min(line.length, 512));
  const m = /^INSERT INTO `((?:[^`]|``)*)`/.exec(text);
  return m ? m[1].replace(/``/g, '`') : '';
}

/** Counts the rows of an INSERT written on one line: `(` at depth 0 outside quoted strings. */
export function rowsInLine(line: Buffer, from: number): number {
  let rows = 0;
  let depth = 0;
  let quote = 0;
  for (let i = from; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === 0x5c)
        i++; // backslash escapes the next byte
      else if (c === quote) quote = 0;
    } else if (c === 0x27 || c === 0x22) quote = c;
    else if (c === 0x28) {
      if (depth === 0) rows++;
      depth++;
    } else if (c === 0x29) depth--;
  }
  return rows;
}

/** The line's length without its newline and trailing blanks. */
export function trimmedLength(line: Buffer): number {
  let n = line.length;
  while (n > 0 && (line[n - 1] === NL || line[n - 1] === 0x0d || line[n - 1] === 0x20)) n--;
  return n;
}

/** True when the line ends its statement (a `;` before the newline). */
export function endsStatement(line: Buffer): boolean {
  const n = trimmedLength(line);
  return n > 0 && line[n - 1] === 0x3b;
}

/**
 * The rows of an INSERT written one per line (MariaDB's mysqldump): each line that starts with
 * `(` is a row, and a line ending in `;` ends the statement. Nearly every byte of a dump is here,
 * so lines are not cut out or copied: this reads the bytes where they lie, across chunk
 * boundaries.
 */
export class RowLines {
  /** The next byte starts a row line. */
  private atLineStart = false;
  /** The last byte of the line so far that is not blank. */
  private lastByte = 0;

  /** A new statement: its rows start on the next line. */
  start(): void {
    this.atLineStart = true;
    this.lastByte = 0;
  }

  /** Reads `chunk` from `from` on: the rows begun, and where the statement ended (`ended`), or the chunk's length. */
  read(chunk: Buffer, from: number): { end: number; rows: number; ended: boolean } {
    let rows = 0;
    let i = from;
    while (i < chunk.length) {
      if (this.atLineStart) {
        if (chunk[i] === 0x28) rows++;
        this.atLineStart = false;
      }
      const nl = chunk.indexOf(NL, i);
      const stop = nl < 0 ? chunk.length : nl;
      let k = stop;
      while (k > i && (chunk[k - 1] === 0x20 || chunk[k - 1] === 0x0d)) k--;
      if (k > i) this.lastByte = chunk[k - 1];
      if (nl < 0) break;
      i = nl + 1;
      this.atLineStart = true;
      if (this.lastByte === 0x3b) return { end: i, rows, ended: true };
      this.lastByte = 0;
    }
    return { end: chunk.length, rows, ended: false };
  }
}
