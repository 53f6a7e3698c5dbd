import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { CopyCounter, copyTable } from './copy-count.js';

describe('CopyCounter', () => {
  it('reads quoted and plain identifiers as PostgreSQL does', () => {
    assert.equal(copyTable('COPY public.t (a, b) FROM stdin;'), 'public.t');
    assert.equal(copyTable('COPY "My Schema"."a ""quoted"" . name" (x) FROM stdin;'), 'My Schema.a "quoted" . name');
    assert.equal(copyTable('COPY public.empty FROM stdin;'), 'public.empty');
    assert.equal(copyTable('SELECT 1;'), undefined);
  });

  it("counts each block's lines, empty tables too, however the text is cut into chunks", async () => {
    const sql = 'SET x = 1;\nCOPY public.t (a) FROM stdin;\n1\n2\n3\n\\.\n\nCOPY public.e (a) FROM stdin;\n\\.\nCOPY "S"."T" (a) FROM stdin;\nCOPY not a header\n\\.\n';
    for (const size of [1, 3, 7, sql.length]) {
      const counter = new CopyCounter();
      const chunks = [];
      for (let i = 0; i < sql.length; i += size) chunks.push(Buffer.from(sql.slice(i, i + size)));
      await pipeline(Readable.from(chunks), counter);
      assert.deepEqual(counter.rows, { 'public.t': 3, 'public.e': 0, 'S.T': 1 }, `chunks of ${size}`);
    }
  });
});
