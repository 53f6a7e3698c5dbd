/**
 * An S3 bucket (AWS or any S3-compatible server: MinIO, Ceph, Garage, …) as a storage, through
 * the AWS SDK v3. Keys are object keys. The SDK is loaded on first use, never at import: the CLI
 * bundle keeps lazy imports in their own chunks, so commands that never touch S3 never load it.
 *
 * A put is one PutObject for data under one part, else a multipart upload (5 MiB parts, 4 at a
 * time, in memory that does not grow with the object: s3-upload.ts). An S3 object appears whole on completion or not
 * at all, so puts are atomic; a failed multipart upload is aborted here (with retries: the server
 * may be back a moment later), so it leaves neither an object nor stored parts behind. The SDK
 * retries each request (3 attempts); a put whose data can be sent again (a Buffer, a string, a
 * stream with `reopen`) is tried again as a whole, up to `attempts` times, after transient
 * failures (network errors, 5xx, throttling).
 *
 * Exclusive puts ask HeadObject first, then put with `If-None-Match: *`, which AWS S3 and recent
 * S3-compatible servers honour (412 when the key appeared meanwhile). Servers that ignore the
 * header (s3rver, older MinIO and Ceph) leave a race: two writers that both see no object between
 * the HeadObject and their put both store, and the last one wins. A server that rejects the
 * header as NotImplemented is remembered and asked without it.
 *
 * The secret key is taken from the options (the caller reads it from a 0600 file or the
 * environment), kept in a private field, and never put in a message.
 * Longer than 200 lines because each Storage method's S3 form (retries, aborting a failed
 * upload) reads best in one class; the options and the SDK client are in s3-client.ts, naming
 * failures in s3-failure.ts.
 */
import { randomBytes } from 'node:crypto';
import { PassThrough, Transform, type Readable } from 'node:stream';
import type * as S3 from '@aws-sdk/client-s3';
import { BattError } from '../errors/errors.js';
import { sdkClient, type S3StorageOptions } from './s3-client.js';
import { endpointLabel, errorName, explainS3, isTransient, sleep, statusOf, type SdkError } from './s3-failure.js';
import { uploadParts } from './s3-upload.js';
import type { PutOptions, Storage, StoredObject } from './storage.js';

export type { S3StorageOptions } from './s3-client.js';

export class S3Storage implements Storage {
  readonly name: string;
  readonly bucket: string;
  readonly #options: S3StorageOptions;
  #client: Promise<{ s3: typeof S3; client: S3.S3Client }> | undefined;
  /** False once the server rejected `If-None-Match` as not implemented. */
  #conditional = true;

  constructor(options: S3StorageOptions) {
    if (!options.bucket) throw new BattError('CONFIG', 'an S3 storage needs a bucket', { hint: 'name the bucket in the configuration' });
    this.#options = { ...options, credentials: options.credentials && { ...options.credentials } };
    this.bucket = options.bucket;
    this.name = options.name ?? `s3://${options.bucket}`;
  }

  /** The endpoint for messages (never with credentials). */
  get #where(): string {
    return endpointLabel(this.#options.endpoint, this.#options.region);
  }

  #sdk(): Promise<{ s3: typeof S3; client: S3.S3Client }> {
    return (this.#client ??= sdkClient(this.#options));
  }

  #explain(raw: unknown, doing: string): BattError {
    return explainS3(raw, doing, { storage: this.name, where: this.#where, bucket: this.bucket });
  }

  async put(key: string, data: Readable | Buffer | string, options: PutOptions = {}): Promise<StoredObject | undefined> {
    if (options.exclusive && (await this.stat(key))) return undefined;
    const { attempts = 3, retryDelayMs = 1000 } = this.#options;
    const resendable = typeof data === 'string' || Buffer.isBuffer(data);
    let source = data;
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1 && !resendable) {
        // The stream of a failed attempt is dropped for a fresh one: nobody reads it any more.
        (source as Readable).destroy();
        source = options.reopen!();
      }
      const conditional = !!options.exclusive && this.#conditional;
      let sourceError: unknown;
      let bytes = 0;
      let body: Buffer | string | Readable;
      if (typeof source === 'string' || Buffer.isBuffer(source)) {
        body = source;
        bytes = Buffer.byteLength(source);
      } else {
        const counter = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            bytes += chunk.length;
            done(null, chunk);
          },
        });
        source.on('error', (error) => {
          sourceError = error;
          counter.destroy(error);
        });
        body = source.pipe(counter);
      }
      try {
        await this.#upload(key, body, conditional, options.onPending);
        return { key, bytes };
      } catch (raw) {
        // The data's own failure (a dump that died) is the caller's, as it is, and not retried.
        if (sourceError !== undefined) throw sourceError;
        const error = raw as SdkError;
        if (conditional && (statusOf(error) === 412 || errorName(error) === 'PreconditionFailed')) return undefined;
        const notImplemented = conditional && (errorName(error) === 'NotImplemented' || statusOf(error) === 501);
        if (notImplemented) this.#conditional = false;
        const again = resendable || !!options.reopen;
        const explained = this.#explain(raw, `storing ${key}`);
        if (!again || attempt >= attempts || !(notImplemented || isTransient(raw))) throw explained;
        const delayMs = retryDelayMs * 2 ** (attempt - 1);
        this.#options.onRetry?.({ what: 'put', key, attempt, error: explained, delayMs });
        await sleep(delayMs);
      }
    }
  }

  /** One upload (s3-upload.ts); a multipart one that fails is aborted. */
  async #upload(key: string, body: Buffer | string | Readable, conditional: boolean, onPending?: PutOptions['onPending']): Promise<void> {
    const { s3, client } = await this.#sdk();
    let uploadId: string | undefined;
    try {
      await uploadParts(
        {
          s3,
          client,
          bucket: this.bucket,
          key,
          partSize: this.#options.partSize ?? 5 * 1024 * 1024,
          queueSize: this.#options.queueSize ?? 4,
          partsPerSize: this.#options.partsPerSize,
          conditional,
          onUploadId: (id) => {
            uploadId = id;
            onPending?.(JSON.stringify({ key, uploadId }));
          },
        },
        typeof body === 'string' || Buffer.isBuffer(body) ? [body] : (body as AsyncIterable<Buffer>),
      );
    } catch (error) {
      if (uploadId) await this.#abort(key, uploadId, error); // an abort that fails leaves the token pending
      if (uploadId) onPending?.(undefined);
      throw error;
    }
    if (uploadId) onPending?.(undefined);
  }

  /** Aborts the multipart upload a put that was cut off left open (its token: key and upload id). */
  async abandon(token: string): Promise<void> {
    const { key, uploadId } = JSON.parse(token) as { key: string; uploadId: string };
    await this.#abort(key, uploadId, new Error('the batt that started it was killed'));
  }

  /** Aborts a multipart upload, retrying while the server cannot be reached. */
  async #abort(key: string, uploadId: string, failure: unknown): Promise<void> {
    const { s3, client } = await this.#sdk();
    const { attempts = 3, retryDelayMs = 1000 } = this.#options;
    const tries = Math.max(attempts, 5);
    for (let attempt = 1; ; attempt++) {
      try {
        await client.send(new s3.AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }));
        return;
      } catch (raw) {
        if (errorName(raw as SdkError) === 'NoSuchUpload') return;
        const explained = this.#explain(raw, `aborting the failed upload of ${key}`);
        if (attempt >= tries || !isTransient(raw)) {
          const why = this.#explain(failure, `storing ${key}`);
          throw new BattError('IO', `${why.message}; its multipart upload ${uploadId} could not be aborted either (${explained.message})`, {
            hint: 'its parts stay stored (and billed) until aborted: `S3Storage.openUploads` lists them, and a bucket lifecycle rule (AbortIncompleteMultipartUpload) removes them',
            cause: failure,
          });
        }
        const delayMs = retryDelayMs * 2 ** (attempt - 1);
        this.#options.onRetry?.({ what: 'abort', key, attempt, error: explained, delayMs });
        await sleep(delayMs);
      }
    }
  }

  get(key: string): Readable {
    const out = new PassThrough();
    void (async () => {
      const { s3, client } = await this.#sdk();
      const response = await client.send(new s3.GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const body = response.Body as Readable;
      body.on('error', (error) => out.destroy(this.#explain(error, `reading ${key}`)));
      out.on('close', () => body.destroy());
      body.pipe(out);
    })().catch((raw) => {
      const name = errorName((raw ?? {}) as SdkError);
      out.destroy(
        name === 'NoSuchKey' || name === 'NotFound'
          ? new BattError('NOT_FOUND', `${key} is missing from ${this.name}`, { hint: 'it was moved or deleted; `batt catalog check` shows what else is' })
          : this.#explain(raw, `reading ${key}`),
      );
    });
    return out;
  }

  async stat(key: string): Promise<{ bytes: number; modified: Date } | undefined> {
    const { s3, client } = await this.#sdk();
    try {
      const head = await client.send(new s3.HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { bytes: head.ContentLength ?? 0, modified: head.LastModified ?? new Date(0) };
    } catch (raw) {
      const error = raw as SdkError;
      if (statusOf(error) === 404 || errorName(error) === 'NotFound' || errorName(error) === 'NoSuchKey') return undefined;
      throw this.#explain(raw, `looking up ${key}`);
    }
  }

  /** Every key below `prefix` taken as a folder (`a/b` lists `a/b/…`, not `a/bc`); the whole bucket for ''. */
  async *list(prefix: string): AsyncIterable<string> {
    const { s3, client } = await this.#sdk();
    const folder = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    let token: string | undefined;
    do {
      let page: S3.ListObjectsV2CommandOutput;
      try {
        page = await client.send(new s3.ListObjectsV2Command({ Bucket: this.bucket, Prefix: folder, ContinuationToken: token }));
      } catch (raw) {
        throw this.#explain(raw, `listing ${folder || 'the bucket'}`);
      }
      for (const object of page.Contents ?? []) if (object.Key !== undefined) yield object.Key;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** S3 deletes answer the same whether the object was there or not, so HeadObject asks first (another writer may come between). */
  async delete(key: string): Promise<boolean> {
    if (!(await this.stat(key))) return false;
    const { s3, client } = await this.#sdk();
    try {
      await client.send(new s3.DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (raw) {
      throw this.#explain(raw, `deleting ${key}`);
    }
    return true;
  }

  /**
   * Proves the bucket reachable, readable and writable with these credentials: lists it, then
   * stores and removes a small probe object under `checkPrefix`. Throws a BattError naming the
   * problem (wrong credentials, no such bucket, no route to the endpoint, no permission) and its fix.
   */
  async check(): Promise<void> {
    const { s3, client } = await this.#sdk();
    const prefix = this.#options.checkPrefix ?? '';
    try {
      // Not MaxKeys: 1: s3rver fails a truncated listing with InternalError (seen with 3.7.1).
      await client.send(new s3.ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, MaxKeys: 1000 }));
    } catch (raw) {
      throw this.#explain(raw, `listing the bucket "${this.bucket}"`);
    }
    const probe = `${prefix}.batt-check-${process.pid}-${randomBytes(6).toString('hex')}`;
    try {
      await client.send(new s3.PutObjectCommand({ Bucket: this.bucket, Key: probe, Body: 'batt check\n' }));
      await client.send(new s3.DeleteObjectCommand({ Bucket: this.bucket, Key: probe }));
    } catch (raw) {
      throw this.#explain(raw, `writing the probe object ${probe}`);
    }
  }

  /** The key of every open (neither completed nor aborted) multipart upload below `prefix`, once per upload. */
  async openUploads(prefix = ''): Promise<string[]> {
    const { s3, client } = await this.#sdk();
    const keys: string[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      let page: S3.ListMultipartUploadsCommandOutput;
      try {
        page = await client.send(new s3.ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
      } catch (raw) {
        throw this.#explain(raw, 'listing open multipart uploads');
      }
      for (const upload of page.Uploads ?? []) if (upload.Key !== undefined) keys.push(upload.Key);
      if (!page.IsTruncated) return keys;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }
}
