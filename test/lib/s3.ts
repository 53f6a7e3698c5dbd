/**
 * A private S3 server for tests: s3rver (a fake S3 in Node, in this process) on a free loopback
 * port, storing everything in its own temporary folder, with one bucket, `batt-test`. It accepts
 * the access key S3RVER with the secret S3RVER. `halt()` stops it at once (open connections cut,
 * as a crash or a lost network would), `resume()` starts it again on the same port and folder,
 * `stop()` stops it and removes the folder.
 *
 * s3rver 3.7 answers ListMultipartUploads with NotImplemented and AbortMultipartUpload with
 * MethodNotAllowed. This harness answers both itself, from s3rver's own record of open uploads
 * (the folder `<bucket>/._S3rver_uploads/<upload id>/`, with the key in a file `key`), so tests
 * can see what an aborted upload leaves. It checks neither signatures nor keys for these two.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import type { Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Storage, type S3StorageOptions } from '@batt/core/storage/s3';

interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  status: number;
  type: string;
  body: unknown;
  res: ServerResponse;
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
interface S3rverInstance {
  middleware: Middleware[];
  httpServer?: Server;
  logger: { silent: boolean };
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;

export interface S3Server {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  bucket: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Its folder (removed by stop). */
  directory: string;
  /** Called as each request's response is sent: `PUT /batt-test/key?partNumber=1&uploadId=… 200`. */
  onResponse?: (method: string, url: string, status: number) => void;
  /** Stops serving now: the listening socket closes and open connections are cut. Data stays. */
  halt(): Promise<void>;
  /** Serves again, on the same port and folder. */
  resume(): Promise<void>;
  /** Halts it (if running) and removes its folder. */
  stop(): Promise<void>;
  /** batt's own storage on this server's bucket, as a test reads it (`options` laid on top). */
  storage(options?: Partial<S3StorageOptions>): S3Storage;
}

/** Every key under `prefix` in `storage`, sorted. */
export async function keysIn(storage: S3Storage, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of storage.list(prefix)) keys.push(key);
  return keys.sort();
}

const xml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** What s3rver lacks: ListMultipartUploads and AbortMultipartUpload, over its uploads folder. */
function uploadsShim(directory: string): Middleware {
  return async (ctx, next) => {
    const [, bucket, ...rest] = ctx.path.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const uploads = join(directory, bucket ?? '', '._S3rver_uploads');
    if (ctx.method === 'GET' && bucket && !key && 'uploads' in ctx.query) {
      const prefix = typeof ctx.query.prefix === 'string' ? ctx.query.prefix : '';
      const entries = [];
      for (const id of await readdir(uploads).catch(() => [] as string[])) {
        const upKey = await readFile(join(uploads, id, 'key'), 'utf8').catch(() => undefined);
        if (upKey === undefined || !upKey.startsWith(prefix)) continue;
        const initiated = (await stat(join(uploads, id))).mtime.toISOString();
        entries.push(`<Upload><Key>${xml(upKey)}</Key><UploadId>${id}</UploadId><Initiated>${initiated}</Initiated></Upload>`);
      }
      ctx.type = 'application/xml';
      ctx.body =
        '<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `<Bucket>${xml(bucket)}</Bucket><Prefix>${xml(prefix)}</Prefix><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>${entries.join('')}</ListMultipartUploadsResult>`;
      return;
    }
    if (ctx.method === 'DELETE' && bucket && key && typeof ctx.query.uploadId === 'string') {
      const dir = join(uploads, ctx.query.uploadId.replace(/[^0-9a-f]/gi, ''));
      if (!(await stat(dir).catch(() => undefined))) {
        ctx.status = 404;
        ctx.type = 'application/xml';
        ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>`;
        return;
      }
      await rm(dir, { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    await next();
  };
}

export async function startS3(): Promise<S3Server> {
  const directory = mkdtempSync(join(tmpdir(), 'batt-s3-'));
  const bucket = 'batt-test';
  let port = 0;
  let running: S3rverInstance | undefined;
  const server: S3Server = {
    endpoint: '',
    bucket,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    directory,
    async halt() {
      const s = running;
      running = undefined;
      if (!s) return;
      const closed = s.close();
      s.httpServer?.closeAllConnections();
      await closed;
    },
    async resume() {
      if (running) return;
      const s = new S3rver({ port, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket }] });
      // Silent at the logger too: requests cut off by halt() log after it closed the transports,
      // which winston reports on stderr.
      s.logger.silent = true;
      // Before s3rver's router (the last middleware), after its logging and XML encoding.
      s.middleware.splice(s.middleware.length - 1, 0, uploadsShim(directory));
      s.middleware.unshift(async (ctx, next) => {
        ctx.res.on('finish', () => server.onResponse?.(ctx.method, ctx.res.req.url ?? '', ctx.res.statusCode));
        await next();
      });
      const address = await s.run();
      port = address.port;
      running = s;
      server.endpoint = `http://127.0.0.1:${port}`;
    },
    async stop() {
      await server.halt();
      rmSync(directory, { recursive: true, force: true });
    },
    storage: (options = {}) => new S3Storage({ bucket, endpoint: server.endpoint, region: server.region, forcePathStyle: true, credentials: server.credentials, ...options }),
  };
  try {
    await server.resume();
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  return server;
}

/**
 * The `storage:` entry (YAML lines, for a sandbox's config) of an S3 storage `name` on `s3`, its
 * secret in a 0600 file under `dir`. `extra` adds keys (`prefix: "{host}/"`).
 */
export function s3StorageYaml(s3: S3Server, dir: string, name = 'offsite', extra: Record<string, string> = {}): string[] {
  const secret = join(dir, `${name}.secret`);
  writeFileSync(secret, s3.credentials.secretAccessKey, { mode: 0o600 });
  return [
    `  - name: ${name}`,
    '    type: s3',
    `    bucket: ${s3.bucket}`,
    `    endpoint: ${s3.endpoint}`,
    '    force_path_style: true',
    ...Object.entries(extra).map(([key, value]) => `    ${key}: ${value}`),
    `    access_key_id: ${s3.credentials.accessKeyId}`,
    `    secret_access_key_file: ${JSON.stringify(secret)}`,
  ];
}
