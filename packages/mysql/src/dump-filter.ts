/**
 * Reads a mysqldump stream line by line, sorts each statement into a part and passes on only
 * the parts asked for, counting rows per table and noticing the completion trailer as it goes.
 * This is what makes the staged restore of seed 002 possible from one dump file:
 *
 * - `schema`: tables, views, routines and events (everything but rows and triggers);
 * - `data`: the rows, then each table's triggers after its rows, as mysqldump orders them;
 * - `objects`: views, routines, events and triggers, without tables or rows (used to rebuild
 *   them around tables moved by RENAME TABLE);
 * - `all`: everything, unchanged (verify).
 *
 * Session settings (`SET …`, `/*!40101 SET …`) go into every part. It relies on the section
 * comments mysqldump writes (batt always dumps with `comments`) and on rows never spanning lines
 * (newlines in values are escaped as \n).
 */
import { Transform, type TransformCallback } from 'node:stream';
import { binlogComment } from './checks.js';
import { endsStatement, insertTable, NL, RowLines, rowsInLine, startsWith, trimmedLength } from './dump-rows.js';

export type DumpPart = 'schema' | 'data' | 'objects' | 'all';
type Kind = 'session' | 'table' | 'data' | 'trigger' | 'objects' | 'comment';

const wanted: Record<DumpPart, ReadonlySet<Kind>> = {
  schema: new Set(['session', 'table', 'objects']),
  data: new Set(['session', 'data', 'trigger']),
  objects: new Set(['session', 'objects', 'trigger']),
  all: new Set(['session', 'table', 'data', 'trigger', 'objects', 'comment']),
};

export class DumpFilter extends Transform {
  /** Rows per table, as counted in the INSERT statements that passed. */
  readonly rows: Record<string, number> = {};
  /** The tables whose structure the dump holds (its `-- Table structure for table` comments), in order. */
  readonly tables: string[] = [];
  /** Each table's CREATE statement as the dump holds it, by table name (the text mysqldump read with SHOW CREATE TABLE). */
  readonly definitions: Record<string, string> = {};
  /** True once the `-- Dump completed` trailer was read. */
  trailer = false;
  /**
   * The binary log position of the dump's snapshot, from the comments `--master-data=2` writes
   * (`-- CHANGE MASTER TO MASTER_LOG_FILE=…, MASTER_LOG_POS=…;` and, from MariaDB, `-- SET GLOBAL
   * gtid_slave_pos=…;`): where to start replaying the binlog for a point-in-time recovery.
   */
  binlog?: { file: string; position: number; gtid?: string };
  /** Bytes read. */
  bytes = 0;
  /** The start of a line that has not ended yet, in the pieces it came in (joined once, at its end). */
  private carry: Buffer[] = [];
  private section: 'header' | 'table' | 'data' | 'objects' = 'header';
  /** Inside an INSERT statement: the table, and whether rows come one per line. */
  private insert: { table: string; perLine: boolean } | null = null;
  /** Counts the rows of an INSERT written one per line. */
  private readonly perLine = new RowLines();
  private block: { lines: Buffer[]; kind: Kind } | null = null;
  /** The lines so far of the CREATE statement of the table being read. */
  private definition: Buffer[] | null = null;
  private readonly keep: ReadonlySet<Kind>;
  /** `all` passes each chunk on as it came: no copies on the backup path. */
  private readonly everything: boolean;
  private out: Buffer[] = [];

  constructor(part: DumpPart) {
    super({ readableHighWaterMark: 1024 * 1024, writableHighWaterMark: 1024 * 1024 });
    this.keep = wanted[part];
    this.everything = part === 'all';
  }

  private pass(kind: Kind, line: Buffer): void {
    if (!this.everything && this.keep.has(kind)) this.out.push(line);
  }

  private line(line: Buffer): void {
    // `line` includes its newline (except possibly the very last line).
    if (this.block) {
      this.block.lines.push(line);
      if (startsWith(line, 'DELIMITER ;') && !startsWith(line, 'DELIMITER ;;')) {
        for (const l of this.block.lines) this.pass(this.block.kind, l);
        this.block = null;
      }
      return;
    }
    if (this.insert) {
      // A multi-row line's statement goes on (rows one per line never come here: rowLines reads them).
      this.rows[this.insert.table] = (this.rows[this.insert.table] ?? 0) + rowsInLine(line, 0);
      if (endsStatement(line)) this.insert = null;
      this.pass('data', line);
      return;
    }
    const first = line[0];
    if (first === 0x49 && startsWith(line, 'INSERT INTO ')) {
      const table = insertTable(line);
      const at = line.indexOf(' VALUES');
      const rest = at < 0 ? line.length : at + 7;
      const perLine = trimmedLength(line) <= rest;
      if (!perLine) this.rows[table] = (this.rows[table] ?? 0) + rowsInLine(line, rest);
      else this.rows[table] ??= 0;
      if (!endsStatement(line)) {
        this.insert = { table, perLine };
        this.perLine.start();
      }
      this.pass('data', line);
      return;
    }
    if (first === 0x2d && startsWith(line, '--')) {
      const text = line.toString('utf8', 0, Math.min(line.length, 80));
      if (/^-- Table structure for table/.test(text)) {
        this.section = 'table';
        const name = /^-- Table structure for table `(.*)`\s*$/s.exec(line.toString('utf8'))?.[1];
        if (name !== undefined) this.tables.push(name.replace(/``/g, '`'));
      } else if (/^-- Dumping data for table/.test(text)) this.section = 'data';
      else if (/^-- (Temporary (table|view) structure|Final view structure|Dumping (events|routines))/.test(text)) this.section = 'objects';
      else if (/^-- Dump completed/.test(text)) this.trailer = true;
      else if (/^-- (CHANGE MASTER|SET GLOBAL gtid_slave_pos)/.test(text)) this.binlog = binlogComment(line.toString('utf8'), this.binlog);
      this.pass('comment', line);
      return;
    }
    if (startsWith(line, 'DELIMITER ;;')) {
      this.block = { lines: [line], kind: this.section === 'data' ? 'trigger' : 'objects' };
      return;
    }
    if (
      startsWith(line, 'LOCK TABLES ') ||
      startsWith(line, 'UNLOCK TABLES') ||
      /^\/\*!40000 ALTER TABLE .* (DIS|EN)ABLE KEYS \*\/;/.test(line.toString('utf8', 0, Math.min(line.length, 400)))
    ) {
      this.pass('data', line);
      return;
    }
    if (trimmedLength(line) === 0) {
      this.pass('comment', line);
      return;
    }
    if (/^(\/\*![0-9]{5} SET |SET |\/\*M!)/.test(line.toString('latin1', 0, Math.min(line.length, 16)))) {
      this.pass('session', line);
      return;
    }
    if (this.section === 'table' && (this.definition || startsWith(line, 'CREATE TABLE ') || startsWith(line, 'CREATE SEQUENCE '))) this.define(line);
    this.pass(this.section === 'header' ? 'session' : this.section === 'data' ? 'data' : this.section, line);
  }

  /** A line of a table's CREATE statement; at its `;`, the statement is the definition of the table whose section this is. */
  private define(line: Buffer): void {
    (this.definition ??= []).push(line);
    if (!endsStatement(line)) return;
    const table = this.tables.at(-1);
    if (table !== undefined) this.definitions[table] = Buffer.concat(this.definition).toString('utf8');
    this.definition = null;
  }

  /** Rows one per line (MariaDB's mysqldump), read where they lie: see RowLines. Returns where the statement ended, or the chunk's length. */
  private rowLines(chunk: Buffer, from: number, table: string): number {
    const { end, rows, ended } = this.perLine.read(chunk, from);
    if (ended) this.insert = null;
    this.rows[table] = (this.rows[table] ?? 0) + rows;
    this.pass('data', chunk.subarray(from, end));
    return end;
  }

  override _transform(chunk: Buffer, _e: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    let start = 0;
    while (start < chunk.length) {
      if (this.insert?.perLine && this.carry.length === 0) {
        start = this.rowLines(chunk, start, this.insert.table);
        continue;
      }
      const nl = chunk.indexOf(NL, start);
      if (nl < 0) {
        // A copy: in `all` mode the chunk itself is passed on and may be reused downstream.
        this.carry.push(Buffer.from(chunk.subarray(start)));
        break;
      }
      if (this.carry.length) {
        this.carry.push(chunk.subarray(start, nl + 1));
        this.line(Buffer.concat(this.carry));
        this.carry = [];
      } else this.line(chunk.subarray(start, nl + 1));
      start = nl + 1;
    }
    if (this.everything) callback(null, chunk);
    else this.flushOut(callback);
  }

  override _flush(callback: TransformCallback): void {
    if (this.carry.length) this.line(Buffer.concat(this.carry));
    this.carry = [];
    if (this.block) for (const l of this.block.lines) this.pass(this.block.kind, l);
    this.block = null;
    if (this.everything) callback();
    else this.flushOut(callback);
  }

  private flushOut(callback: TransformCallback): void {
    const out = this.out;
    this.out = [];
    callback(null, out.length === 0 ? undefined : out.length === 1 ? out[0] : Buffer.concat(out));
  }
}
