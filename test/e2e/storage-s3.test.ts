// S3 as a storage, against a private s3rver (test/lib/s3.ts): the shared storage conformance
// suite, then what goes wrong: a server gone in the middle of a multipart upload, wrong
// credentials, a missing bucket, an endpoint nobody answers on.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { BattError } from '@batt/core/errors/errors';
import { storageConformance } from '@batt/core/storage/conformance';
import { S3Storage, type S3StorageOptions } from '@batt/core/storage/s3';
import { loadSdk } from '@batt/core/storage/s3-failure';
import { uploadParts } from '@batt/core/storage/s3-upload';
import { startS3, type S3Server } from '../lib/s3.js';
import { freePort } from '../lib/servers.js';

const server = await startS3();
after(() => server.stop());

const storageOn = (s: S3Server, options: Partial<S3StorageOptions> = {}): S3Storage =>
  new S3Storage({ bucket: s.bucket, endpoint: s.endpoint, region: s.region, forcePathStyle: true, credentials: s.credentials, retryDelayMs: 100, ...options });

storageConformance('s3', async () => ({
  storage: storageOn(server),
  prefix: `conformance-${randomBytes(4).toString('hex')}`,
  cleanup: async () => {},
}));

/** `mib` MiB of bytes that differ from MiB to MiB, made as they are read. */
function generated(mib: number): Readable {
  let i = 0;
  return new Readable({
    read() {
      this.push(i < mib ? Buffer.alloc(1024 * 1024, `chunk ${i++} `) : null);
    },
  });
}

async function sha256(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const isBattError = (code: string, message: RegExp) => (error: unknown) => {
  assert.ok(error instanceof BattError, `a BattError, not ${String(error)}`);
  assert.equal(error.code, code, error.message);
  assert.match(error.message, message);
  assert.ok(error.hint, 'with a hint');
  assert.doesNotMatch(`${error.message} ${error.hint}`, /\n\s+at |not-the-secret/, 'no stack trace, no secret');
  return true;
};

describe('s3 storage: faults', () => {
  it('a multipart upload cut off by the server going away rejects; once the server is back, no object and no open upload remain', async () => {
    const own = await startS3();
    try {
      let halted = false;
      let openAtHalt = 0;
      let resumed = false;
      own.onResponse = (method, url, status) => {
        if (halted || method !== 'PUT' || !url.includes('partNumber=') || status !== 200) return;
        halted = true;
        openAtHalt = readdirSync(join(own.directory, own.bucket, '._S3rver_uploads')).length;
        void own.halt();
      };
      const storage = storageOn(own, {
        // The server comes back while the storage tries to abort the failed upload.
        onRetry: ({ what }) => {
          if (what === 'abort' && !resumed) {
            resumed = true;
            void own.resume();
          }
        },
      });
      const started = Date.now();
      await assert.rejects(
        storage.put('big/dump.sql.zst', generated(40)),
        isBattError('IO', /cannot reach http:\/\/127\.0\.0\.1:\d+ \(E[A-Z]+\) while storing big\/dump\.sql\.zst/),
      );
      assert.ok(halted, 'the server was halted after the first part');
      assert.equal(openAtHalt, 1, 'a multipart upload was open when the server went away');
      assert.ok(resumed, 'the abort was retried while the server was away');
      assert.ok(Date.now() - started < 30_000, 'no endless retrying');
      assert.equal(await storage.stat('big/dump.sql.zst'), undefined, 'no object');
      assert.deepEqual(await storage.openUploads(), [], 'no open multipart upload');
      assert.deepEqual(readdirSync(join(own.directory, own.bucket, '._S3rver_uploads')), [], 'no stored parts');
    } finally {
      await own.stop();
    }
  });

  it('a large stream goes up in parts and comes back whole; openUploads lists an upload left open', async () => {
    const storage = storageOn(server);
    const stored = await storage.put('parts/large.bin', generated(20));
    assert.deepEqual(stored, { key: 'parts/large.bin', bytes: 20 * 1024 * 1024 });
    assert.equal(await sha256(storage.get('parts/large.bin')), await sha256(generated(20)));
    assert.deepEqual(await storage.openUploads('parts/'), []);
    const response = await fetch(`${server.endpoint}/${server.bucket}/parts/abandoned.bin?uploads`, { method: 'POST' });
    assert.equal(response.status, 200);
    assert.deepEqual(await storage.openUploads('parts/'), ['parts/abandoned.bin']);
  });

  it('parts grow as a stream of unknown length goes on, with no more bytes on their way than queueSize first parts, and the object comes back whole', async () => {
    const { s3 } = await loadSdk();
    const client = new s3.S3Client({ region: server.region, endpoint: server.endpoint, forcePathStyle: true, credentials: server.credentials });
    const sizes: number[] = [];
    let sending = 0;
    let mostSending = 0;
    const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
    const spied = Object.assign(Object.create(client) as typeof client, {
      send: async (command: { input: { ContentLength?: number } }) => {
        if (!(command instanceof s3.UploadPartCommand)) return send(command);
        const bytes = command.input.ContentLength!;
        sizes.push(bytes);
        sending += bytes;
        mostSending = Math.max(mostSending, sending);
        try {
          await new Promise((settle) => setTimeout(settle, 50)); // a slow link: the parts queue up
          return await send(command);
        } finally {
          sending -= bytes;
        }
      },
    });
    let uploadId = '';
    const key = 'parts/growing.bin';
    const target = { s3, client: spied, bucket: server.bucket, key, partSize: 5 * 1024 * 1024, partsPerSize: 2, queueSize: 2, conditional: false };
    await uploadParts({ ...target, onUploadId: (id) => (uploadId = id) }, generated(36));
    const mib = 1024 * 1024;
    assert.deepEqual(sizes, [5 * mib, 5 * mib, 10 * mib, 10 * mib, 6 * mib]);
    // Two 10 MiB parts at once would be 20 MiB: the doubled parts go one at a time.
    assert.equal(mostSending, 10 * mib);
    assert.ok(uploadId);
    assert.equal(await sha256(storageOn(server).get(key)), await sha256(generated(36)));
    client.destroy();
  });

  it('a put of a buffer, or of a stream with reopen, is tried again when the server is away for a moment; a stream without reopen is not', async () => {
    const own = await startS3();
    try {
      const retries: string[] = [];
      const storage = storageOn(own, {
        onRetry: ({ what, attempt, error }) => {
          retries.push(`${what} ${attempt}: ${error.message}`);
          void own.resume();
        },
      });
      await own.halt();
      assert.deepEqual(await storage.put('again/x', Buffer.from('hello')), { key: 'again/x', bytes: 5 });
      assert.equal(retries.length, 1, retries.join('\n'));
      assert.match(retries[0], /^put 1: .*cannot reach/);
      assert.equal((await storage.stat('again/x'))?.bytes, 5);
      // A stream is sent again only through `reopen`; without it, the put is tried once.
      await own.halt();
      const opened: Readable[] = [];
      const reopen = (): Readable => {
        opened.push(Readable.from([Buffer.from('one '), Buffer.from('two')]));
        return opened[opened.length - 1];
      };
      assert.deepEqual(await storage.put('again/stream', reopen(), { reopen }), { key: 'again/stream', bytes: 7 });
      assert.equal(opened.length, 2, 'reopened once');
      assert.ok(opened[0].destroyed, 'the first stream was dropped');
      await own.halt();
      await assert.rejects(storage.put('again/once', Readable.from(['x'])), isBattError('IO', /cannot reach/));
      assert.equal(retries.length, 2, retries.join('\n'));
    } finally {
      await own.stop();
    }
  });

  it('check() passes with the right credentials and leaves nothing behind', async () => {
    const storage = storageOn(server, { checkPrefix: 'checked/' });
    await storage.check();
    const left: string[] = [];
    for await (const key of storage.list('checked')) left.push(key);
    assert.deepEqual(left, []);
  });

  it('wrong credentials: check() says the server refused them, never the secret', async () => {
    await assert.rejects(
      storageOn(server, { credentials: { accessKeyId: 'NOBODY', secretAccessKey: 'not-the-secret' } }).check(),
      isBattError('CONFIG', /refused the credentials \(InvalidAccessKeyId\) while listing the bucket "batt-test"/),
    );
    // s3rver checks no version 4 signature (any secret passes): a wrong secret is shown by a server
    // that refuses every signature, as S3 refuses one made with the wrong secret.
    const refusing = createServer((request, response) => {
      request.resume();
      response.writeHead(403, { 'content-type': 'application/xml' });
      response.end(
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message></Error>',
      );
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
      await assert.rejects(
        storageOn(server, { endpoint, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'not-the-secret' } }).check(),
        isBattError('CONFIG', /refused the credentials \(SignatureDoesNotMatch\)/),
      );
    } finally {
      refusing.closeAllConnections();
      await new Promise((resolve) => refusing.close(resolve));
    }
  });

  it('a missing bucket: check() names it', async () => {
    await assert.rejects(storageOn(server, { bucket: 'no-such-bucket' }).check(), isBattError('CONFIG', /there is no bucket "no-such-bucket" at http:\/\/127\.0\.0\.1/));
  });

  it('an endpoint nobody answers on: check() says it cannot reach it', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    await assert.rejects(storageOn(server, { endpoint }).check(), isBattError('IO', new RegExp(`cannot reach ${endpoint.replace(/\./g, '\\.')} \\(ECONNREFUSED\\)`)));
  });
});
