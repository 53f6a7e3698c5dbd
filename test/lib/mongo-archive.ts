/**
 * Builds mongodump archives (mongo-tools' common/archive/spec.md) for the stand-in mongodump:
 * no mongod can run here, so the tests make the bytes a real mongodump writes. Run as a script,
 * it writes an archive of `<db>.users` (3 documents) and `<db>.empty` (none) to stdout, with the
 * collections' segments interleaved as a parallel mongodump writes them; `--cut N` drops the
 * last N bytes.
 */
import { fileURLToPath } from 'node:url';

type Value = string | boolean | number | bigint;

/** A BSON document of strings, booleans, int32s and int64s. */
export function bson(fields: [string, Value][]): Buffer {
  const parts = fields.map(([key, value]) => {
    const name = Buffer.from(`${key}\0`);
    const int = (n: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeInt32LE(n);
      return b;
    };
    if (typeof value === 'string') {
      const text = Buffer.from(`${value}\0`);
      return Buffer.concat([Buffer.from([0x02]), name, int(text.length), text]);
    }
    if (typeof value === 'boolean') return Buffer.concat([Buffer.from([0x08]), name, Buffer.from([value ? 1 : 0])]);
    if (typeof value === 'bigint') {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(value);
      return Buffer.concat([Buffer.from([0x12]), name, b]);
    }
    return Buffer.concat([Buffer.from([0x10]), name, int(value)]);
  });
  const body = Buffer.concat([...parts, Buffer.from([0])]);
  const length = Buffer.alloc(4);
  length.writeInt32LE(body.length + 4);
  return Buffer.concat([length, body]);
}

const MAGIC = Buffer.from([0x6d, 0xe2, 0x99, 0x81]);
const TERMINATOR = Buffer.from([0xff, 0xff, 0xff, 0xff]);

/**
 * An archive of `collections` (name → documents) and `views`, laid out as mongodump's
 * multiplexer writes it: a collection's documents in segments (here two, the second sent when
 * the collection is closed, empty if nothing is left, as mongodump sends it), every collection's
 * first segment before any EOF header, then one EOF header each. A view sends an empty segment and
 * an EOF header, as mongodump's does; with `silentViews` it sends nothing at all.
 */
export function mongoArchive(db: string, collections: Record<string, number>, views: string[] = [], silentViews = false): Buffer {
  const names = Object.keys(collections);
  const closing = [...names, ...(silentViews ? [] : views)];
  const doc = (i: number): Buffer =>
    bson([
      ['_id', i],
      ['v', `value ${i} in ${db}`],
    ]);
  const segment = (name: string, from: number, to: number, always = false): Buffer[] =>
    from >= to && !always
      ? []
      : [
          bson([
            ['db', db],
            ['collection', name],
            ['EOF', false],
            ['CRC', 0n],
          ]),
          ...Array.from({ length: Math.max(0, to - from) }, (_, i) => doc(from + i)),
          TERMINATOR,
        ];
  const half = (name: string): number => Math.ceil((collections[name] ?? 0) / 2);
  return Buffer.concat([
    MAGIC,
    bson([
      ['concurrent_collections', 4],
      ['version', '0.1'],
      ['server_version', '7.0.0'],
      ['tool_version', '100.9.4'],
    ]),
    ...names.map((name) =>
      bson([
        ['db', db],
        ['collection', name],
        ['metadata', '{"indexes":[]}'],
        ['size', 0],
      ]),
    ),
    // A view is listed, and sends no documents and no EOF header.
    ...views.map((name) =>
      bson([
        ['db', db],
        ['collection', name],
        ['metadata', `{"options":{"viewOn":"${names[0]}","pipeline":[]},"indexes":[],"type":"view"}`],
        ['size', 0],
      ]),
    ),
    TERMINATOR,
    ...names.flatMap((name) => segment(name, 0, half(name))),
    ...closing.flatMap((name) => segment(name, half(name), collections[name] ?? 0, true)),
    ...closing.flatMap((name) => [
      bson([
        ['db', db],
        ['collection', name],
        ['EOF', true],
        ['CRC', 12345n],
      ]),
      TERMINATOR,
    ]),
  ]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [db, flag, n] = process.argv.slice(2);
  const archive = mongoArchive(db, { users: 3, empty: 0 });
  process.stdout.write(flag === '--cut' ? archive.subarray(0, archive.length - Number(n)) : archive);
}
