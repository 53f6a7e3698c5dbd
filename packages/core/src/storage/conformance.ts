/**
 * What every storage must do, as tests: `storageConformance('local folder', make)` registers them
 * for one implementation; `make` gives a fresh storage and a key prefix nobody else uses.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import type { Storage } from './storage.js';

async function read(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function keys(storage: Storage, prefix: string): Promise<string[]> {
  const all: string[] = [];
  for await (const key of storage.list(prefix)) all.push(key);
  return all.sort();
}

/** A stream that gives some bytes, then fails: a dump that died, a disk that filled. */
function failing(): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(Buffer.alloc(64 * 1024, 7));
      } else this.destroy(new Error('the source died'));
    },
  });
}

export function storageConformance(name: string, make: () => Promise<{ storage: Storage; prefix: string; cleanup(): Promise<void> }>): void {
  describe(`storage conformance: ${name}`, () => {
    const made: { cleanup(): Promise<void> }[] = [];
    const fresh = async (): Promise<{ storage: Storage; key: (name: string) => string; prefix: string }> => {
      const m = await make();
      made.push(m);
      return { storage: m.storage, key: (n) => `${m.prefix}/${n}`, prefix: m.prefix };
    };
    after(async () => {
      for (const m of made) await m.cleanup();
    });

    it('put then get gives back the same bytes, from a buffer, a string or a stream; stat has their size', async () => {
      const { storage, key } = await fresh();
      const big = Buffer.alloc(3 * 1024 * 1024 + 17, 'ab');
      assert.deepEqual(await storage.put(key('a'), big), { key: key('a'), bytes: big.length });
      assert.deepEqual(await read(storage.get(key('a'))), big);
      await storage.put(key('b'), 'text\n');
      assert.equal((await read(storage.get(key('b')))).toString(), 'text\n');
      await storage.put(key('c'), Readable.from([Buffer.from('one '), Buffer.from('two')]));
      assert.equal((await read(storage.get(key('c')))).toString(), 'one two');
      assert.equal((await storage.stat(key('a')))?.bytes, big.length);
    });

    it('a put replaces the whole object; a put that fails leaves the old one and nothing else', async () => {
      const { storage, key, prefix } = await fresh();
      await storage.put(key('obj'), 'old');
      await storage.put(key('obj'), 'new');
      assert.equal((await read(storage.get(key('obj')))).toString(), 'new');
      await assert.rejects(storage.put(key('obj'), failing()), /the source died/);
      assert.equal((await read(storage.get(key('obj')))).toString(), 'new');
      await assert.rejects(storage.put(key('never'), failing()), /the source died/);
      assert.deepEqual(await keys(storage, prefix), [key('obj')], 'no partial object, no temporary one');
    });

    it('an exclusive put never replaces an object: it stores nothing and says so', async () => {
      const { storage, key, prefix } = await fresh();
      assert.ok(await storage.put(key('x'), 'first', { exclusive: true }));
      assert.equal(await storage.put(key('x'), 'second', { exclusive: true }), undefined);
      assert.equal((await read(storage.get(key('x')))).toString(), 'first');
      assert.deepEqual(await keys(storage, prefix), [key('x')]);
    });

    it('what is not there: get fails with NOT_FOUND, stat is undefined, list is empty, delete is false', async () => {
      const { storage, key, prefix } = await fresh();
      await assert.rejects(read(storage.get(key('missing'))), (error: Error & { code?: string }) => error.code === 'NOT_FOUND');
      assert.equal(await storage.stat(key('missing')), undefined);
      assert.deepEqual(await keys(storage, `${prefix}/nothing-here`), []);
      assert.equal(await storage.delete(key('missing')), false);
    });

    it('list finds every key below a prefix, at any depth; delete removes one', async () => {
      const { storage, key, prefix } = await fresh();
      for (const n of ['a', 'b']) await storage.put(key(n), n);
      assert.deepEqual(await keys(storage, prefix), [key('a'), key('b')]);
      assert.equal(await storage.delete(key('a')), true);
      assert.deepEqual(await keys(storage, prefix), [key('b')]);
    });
  });
}
