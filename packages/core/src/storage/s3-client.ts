/** The options of an S3 storage, and the AWS SDK v3 client they make (the SDK loaded on first use). */
import type * as S3 from '@aws-sdk/client-s3';
import type { BattError } from '../errors/errors.js';
import { loadSdk } from './s3-failure.js';

export interface S3StorageOptions {
  /** For messages; `s3://<bucket>` by default. */
  name?: string;
  bucket: string;
  /** The server's URL for S3-compatible servers (`https://minio.example:9000`); AWS S3 without it. */
  endpoint?: string;
  /** `us-east-1` by default. */
  region?: string;
  /** Bucket in the path (`host/bucket/key`) rather than in the host name: most self-hosted servers need it. */
  forcePathStyle?: boolean;
  /** Without them, the SDK's default chain (AWS_* environment, ~/.aws, instance roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** The first multipart parts' size in bytes (5 MiB, S3's least), doubled every 1,000 parts. */
  partSize?: number;
  /** How many parts of one size before the size doubles (1,000; fewer in tests). */
  partsPerSize?: number;
  /** Parts sent at once (4). */
  queueSize?: number;
  /** Tries of a put whose data can be sent again (3), and of aborting a failed upload (5). */
  attempts?: number;
  /** The first wait before another try (1 s), doubled for each further one. */
  retryDelayMs?: number;
  /** Where check() writes and removes its probe object: a prefix this key may write (the bucket's root by default). */
  checkPrefix?: string;
  /** Told of every retry (for the log): what failed, the key, the attempt that failed, and the wait before the next. */
  onRetry?: (retry: { what: 'put' | 'abort'; key: string; attempt: number; error: BattError; delayMs: number }) => void;
}

/** The SDK and a client for these options: 3 attempts a request, 10 s to connect, 120 s a request. */
export function sdkClient(options: S3StorageOptions): Promise<{ s3: typeof S3; client: S3.S3Client }> {
  return loadSdk().then(({ s3 }) => {
    const { endpoint, region = 'us-east-1', forcePathStyle, credentials } = options;
    const client = new s3.S3Client({
      region,
      endpoint,
      forcePathStyle,
      credentials,
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
      // Checksums in aws-chunked trailers are AWS's; many S3-compatible servers store them as
      // data or refuse them. Elsewhere they are asked for only where the API requires them.
      ...(endpoint ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
    });
    return { s3, client };
  });
}
