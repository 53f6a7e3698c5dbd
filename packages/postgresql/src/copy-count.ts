/**
 * Rows per table as a pg_dump archive holds them: pg_restore --data-only writes each table's data
 * as `COPY schema.table (…) FROM stdin;`, one line per row, ended by `\.`. Counting those lines
 * gives what the dump's snapshot has, not what a count before the dump saw.
 */
import { Writable } from 'node:stream';

/** `schema.table` of a COPY line, its identifiers unquoted as PostgreSQL reads them. */
export function copyTable(line: string): string | undefined {
  const m = /^COPY ((?:"(?:[^"]|"")*"|[^". ]+)\.(?:"(?:[^"]|"")*"|[^". (]+)) /.exec(line);
  if (!m) return undefined;
  const parts: string[] = [];
  const re = /"((?:[^"]|"")*)"|([^".]+)/g;
  for (const p of m[1].matchAll(re)) parts.push(p[1] !== undefined ? p[1].replace(/""/g, '"') : p[2]);
  return parts.length === 2 ? `${parts[0]}.${parts[1]}` : undefined;
}

/** A sink for pg_restore's SQL output that counts the rows of each COPY block (bytes, not text: dumps are big). */
export class CopyCounter extends Writable {
  readonly rows: Record<string, number> = {};
  private table: string | undefined;
  /** The start of a line not ended yet; only its first bytes are kept (a long line is no header and no `\.`). */
  private carry: Buffer[] = [];
  private carried = 0;

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    let start = 0;
    for (let end = chunk.indexOf(10); end >= 0; start = end + 1, end = chunk.indexOf(10, start)) {
      if (this.carried) {
        this.keep(chunk.subarray(start, end));
        this.line(Buffer.concat(this.carry), this.carried);
        this.carry = [];
        this.carried = 0;
      } else this.line(chunk.subarray(start, end), end - start);
    }
    if (start < chunk.length) this.keep(chunk.subarray(start));
    callback();
  }

  override _final(callback: () => void): void {
    if (this.carried) this.line(Buffer.concat(this.carry), this.carried);
    callback();
  }

  private keep(piece: Buffer): void {
    const room = HEAD_MAX - Math.min(this.carried, HEAD_MAX);
    if (room > 0) this.carry.push(Buffer.from(piece.subarray(0, room)));
    this.carried += piece.length;
  }

  /** One line without its newline: `head` its first bytes, `length` its whole length. */
  private line(head: Buffer, length: number): void {
    if (this.table !== undefined) {
      if (length === 2 && head[0] === 0x5c && head[1] === 0x2e) this.table = undefined;
      else this.rows[this.table]++;
      return;
    }
    if (length > HEAD_MAX || head[0] !== 0x43 || !head.subarray(0, 5).equals(COPY)) return;
    const text = head.toString('utf8');
    if (!text.endsWith(' FROM stdin;')) return;
    const table = copyTable(text);
    if (table === undefined) return;
    this.table = table;
    this.rows[table] ??= 0;
  }
}

const COPY = Buffer.from('COPY ');
/** The longest COPY header line read (its column list included). */
const HEAD_MAX = 1024 * 1024;
