/**
 * Reads a `mongodump --archive` stream as it passes, to know it is whole. The format (mongo-tools'
 * common/archive/spec.md): a magic number, a header document and one metadata document per
 * collection, a terminator (0xffffffff), then namespace segments — a header document
 * {db, collection, EOF: false}, documents, a terminator — and, for each namespace, one EOF header
 * {db, collection, EOF: true, CRC} and a terminator. The stream is whole when it ends right after
 * a terminator, every namespace that sent documents also sent its EOF, and so did every collection
 * of the list (but views and time series, which send none of their own). Documents are counted
 * per namespace on the way; their contents are skipped, never buffered.
 */
import { Transform, type TransformCallback } from 'node:stream';

const MAGIC = Buffer.from([0x6d, 0xe2, 0x99, 0x81]);
const TERMINATOR = -1;
/** BSON documents are at most 16 MiB; a header that claims more is not a header. (Data documents
 * are skipped, not read, and are not capped: an oplog entry may be a little larger.) */
const MAX_HEADER = 16 * 1024 * 1024;

type State = 'magic' | 'prelude' | 'metadata' | 'header' | 'data' | 'eof-terminator';

/** Collections that send no documents of their own: views, and time series (sent as their buckets). */
const noData = /"viewOn"|"type"\s*:\s*"(view|timeseries)"|"timeseries"\s*:/;

/** The top-level string, boolean and number fields of a small BSON document. */
export function bsonFields(doc: Buffer): Record<string, string | boolean | number> {
  const fields: Record<string, string | boolean | number> = {};
  let i = 4;
  while (i < doc.length - 1) {
    const type = doc[i++];
    const end = doc.indexOf(0, i);
    if (end < 0) break;
    const key = doc.toString('utf8', i, end);
    i = end + 1;
    if (type === 0x02) {
      const len = doc.readInt32LE(i);
      fields[key] = doc.toString('utf8', i + 4, i + 4 + len - 1);
      i += 4 + len;
    } else if (type === 0x08) fields[key] = doc[i++] === 1;
    else if (type === 0x10) {
      fields[key] = doc.readInt32LE(i);
      i += 4;
    } else if (type === 0x12 || type === 0x01 || type === 0x09 || type === 0x11) {
      fields[key] = type === 0x01 ? doc.readDoubleLE(i) : Number(doc.readBigInt64LE(i));
      i += 8;
    } else if (type === 0x03 || type === 0x04) i += doc.readInt32LE(i);
    else break; // a type a namespace header never holds: the fields before it are enough
  }
  return fields;
}

export class ArchiveCheck extends Transform {
  /** Documents per namespace (`db.collection`), as counted in the archive. */
  readonly documents: Record<string, number> = {};
  /** Why the archive is not whole; undefined once it ended whole. Read after the stream ended. */
  problem: string | undefined = 'it was not read to its end';
  private state: State = 'magic';
  /** Bytes of the current piece (magic, an int32, a header document) read so far. */
  private piece: Buffer[] = [];
  private pieceBytes = 0;
  /** Bytes of a document being skipped. */
  private skip = 0;
  private namespace = '';
  private readonly open = new Set<string>();
  /** The collections of the archive's list, each to end with its EOF header. */
  private readonly expected = new Set<string>();
  private readonly ended = new Set<string>();
  private broken: string | undefined;

  constructor() {
    super({ readableHighWaterMark: 1024 * 1024, writableHighWaterMark: 1024 * 1024 });
  }

  /** Takes up to `want` bytes of the current piece from chunk[at..]; the piece once whole. */
  private collectPiece(chunk: Buffer, at: number, want: number): { piece?: Buffer; at: number } {
    if (this.pieceBytes === 0 && chunk.length - at >= want) return { piece: chunk.subarray(at, at + want), at: at + want };
    const n = Math.min(want - this.pieceBytes, chunk.length - at);
    this.piece.push(Buffer.from(chunk.subarray(at, at + n))); // kept past this chunk: a copy
    this.pieceBytes += n;
    if (this.pieceBytes < want) return { at: at + n };
    const piece = this.piece.length === 1 ? this.piece[0] : Buffer.concat(this.piece);
    this.piece = [];
    this.pieceBytes = 0;
    return { piece, at: at + n };
  }

  private scan(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.broken) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        this.skip -= n;
        at += n;
        continue;
      }
      if (this.state === 'magic') {
        const got = this.collectPiece(chunk, at, 4);
        at = got.at;
        if (!got.piece) return;
        if (!got.piece.equals(MAGIC)) this.broken = 'it does not start with the mongodump archive magic number';
        this.state = 'prelude';
        continue;
      }
      // Every other state starts with an int32: a document's length or the terminator. A header
      // document is read whole (it is small); any other document is skipped.
      const whole = this.state === 'header' || this.state === 'metadata';
      const wantHeader = whole && this.pieceBytes >= 4;
      const want = wantHeader ? this.piece[0].readInt32LE(0) : 4;
      const got = this.collectPiece(chunk, at, want);
      at = got.at;
      if (!got.piece) return;
      if (wantHeader) {
        if (this.state === 'metadata') this.metadata(got.piece);
        else this.header(got.piece);
        continue;
      }
      const length = got.piece.readInt32LE(0);
      if (length === TERMINATOR) {
        if (this.state === 'metadata' || this.state === 'data' || this.state === 'eof-terminator') this.state = 'header';
        else this.broken = 'a namespace header is missing before a terminator';
        continue;
      }
      if (length < 5 || (whole && length > MAX_HEADER)) {
        this.broken = `a document claims ${length} bytes`;
        continue;
      }
      if (this.state === 'eof-terminator') {
        this.broken = 'an EOF header is not followed by a terminator';
        continue;
      }
      if (this.state === 'prelude') {
        this.state = 'metadata'; // the archive's header document; the collection list follows
        this.skip = length - 4;
        continue;
      }
      if (whole) {
        // Keep the length: the rest of the document follows.
        this.piece = [Buffer.from(got.piece)];
        this.pieceBytes = 4;
        continue;
      }
      if (this.state === 'data') this.documents[this.namespace] = (this.documents[this.namespace] ?? 0) + 1;
      this.skip = length - 4;
    }
  }

  private metadata(doc: Buffer): void {
    const fields = bsonFields(doc);
    if (!noData.test(String(fields.metadata ?? '')) && fields.type !== 'view' && fields.type !== 'timeseries')
      this.expected.add(`${String(fields.db ?? '')}.${String(fields.collection ?? '')}`);
  }

  private header(doc: Buffer): void {
    const fields = bsonFields(doc);
    const name = `${String(fields.db ?? '')}.${String(fields.collection ?? '')}`;
    if (fields.EOF === true) {
      this.open.delete(name);
      this.ended.add(name);
      this.documents[name] ??= 0;
      this.state = 'eof-terminator';
    } else {
      this.open.add(name);
      this.namespace = name;
      this.state = 'data';
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.scan(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.broken) this.problem = this.broken;
    else if (this.state === 'magic' || this.state === 'prelude' || this.state === 'metadata') this.problem = 'it ends before its collection list does';
    else if (this.state !== 'header' || this.pieceBytes > 0 || this.skip > 0) this.problem = `it ends inside ${this.namespace ? `the data of ${this.namespace}` : 'a namespace'}`;
    else if (this.open.size) this.problem = `it ends before the end of ${[...this.open].slice(0, 5).join(', ')}`;
    else if ([...this.expected].some((n) => !this.ended.has(n)))
      this.problem = `it ends before ${[...this.expected]
        .filter((n) => !this.ended.has(n))
        .slice(0, 5)
        .join(', ')} came`;
    else this.problem = undefined;
    callback();
  }
}
