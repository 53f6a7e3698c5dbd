/**
 * The S3 storage's vocabulary of failure: the SDK, loaded on first use, and its errors sorted
 * into the few a user can act on (unreachable, no bucket, refused credentials, denied), each with
 * its fix, and those worth another try.
 */
import type * as S3 from '@aws-sdk/client-s3';
import { BattError } from '../errors/errors.js';

export type Sdk = { s3: typeof S3 };
let sdk: Promise<Sdk> | undefined;
/** The AWS SDK, loaded once, on first use. */
export const loadSdk = (): Promise<Sdk> => {
  // On Node 20 the SDK warns on stderr, at every start, that its 2027 versions will need Node 22:
  // noise in every cron mail, with nothing for the user to do today. It is off unless asked for.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // Bundled (packages/batt/build.mjs), a CommonJS module's exports may arrive under `default`.
  const unwrap = <T extends object>(mod: T): T => ('default' in mod && mod.default && typeof mod.default === 'object' ? (mod.default as T) : mod);
  return (sdk ??= import('@aws-sdk/client-s3').then((s3) => ({ s3: 'S3Client' in s3 && typeof s3.S3Client === 'function' ? s3 : unwrap(s3) })));
};

export interface SdkError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  errors?: SdkError[];
  cause?: SdkError;
  $metadata?: { httpStatusCode?: number };
}

const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED']);
const credentialCodes = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken', 'TokenRefreshRequired', 'CredentialsProviderError']);
const transientCodes = new Set([
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'InternalError',
  'ServiceUnavailable',
  'ConditionalRequestConflict',
]);

/** The system error code (ECONNREFUSED, …) of a network failure, wherever the SDK put it. */
function networkCode(error: SdkError | undefined, depth = 0): string | undefined {
  if (!error || depth > 4) return undefined;
  if (error.code && networkCodes.has(error.code)) return error.code;
  if (error.name === 'TimeoutError') return 'ETIMEDOUT';
  for (const inner of error.errors ?? []) {
    const found = networkCode(inner, depth + 1);
    if (found) return found;
  }
  return networkCode(error.cause, depth + 1);
}

export const errorName = (error: SdkError): string => error.Code ?? error.name ?? 'Error';
export const statusOf = (error: SdkError): number | undefined => error.$metadata?.httpStatusCode;
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A BattError that names the problem and its fix; `doing` says what was being done ("storing x"). */
export function explainS3(raw: unknown, doing: string, at: { storage: string; where: string; bucket: string }): BattError {
  if (raw instanceof BattError) return raw;
  const error = (raw ?? {}) as SdkError;
  const name = errorName(error);
  const status = statusOf(error);
  const net = networkCode(error);
  if (net)
    return new BattError('IO', `${at.storage}: cannot reach ${at.where} (${net}) while ${doing}`, {
      hint: 'check the endpoint URL, the network and that the server is running',
      cause: raw,
    });
  if (name === 'NoSuchBucket')
    return new BattError('CONFIG', `${at.storage}: there is no bucket "${at.bucket}" at ${at.where}`, {
      hint: 'create the bucket, or correct its name in the configuration',
      cause: raw,
    });
  if (credentialCodes.has(name) || (status === 403 && name !== 'AccessDenied'))
    return new BattError('CONFIG', `${at.storage}: ${at.where} refused the credentials (${name === 'Error' || !name ? status : name}) while ${doing}`, {
      hint: "check the access key ID and the secret key (its file or AWS_SECRET_ACCESS_KEY), and this machine's clock",
      cause: raw,
    });
  if (name === 'AccessDenied')
    return new BattError('CONFIG', `${at.storage}: access denied while ${doing}`, {
      hint: `give this key permission to list, read, write and delete objects in the bucket "${at.bucket}"`,
      cause: raw,
    });
  const detail = error.message && error.message !== name ? `${name}: ${error.message}` : `${name}${status ? ` (HTTP ${status})` : ''}`;
  return new BattError('IO', `${at.storage}: ${doing} failed: ${detail}`, { cause: raw });
}

/** Worth another try: the network, a timeout, a busy or failing server. */
export function isTransient(raw: unknown): boolean {
  const error = (raw ?? {}) as SdkError;
  const status = statusOf(error);
  return !!networkCode(error) || transientCodes.has(errorName(error)) || (status !== undefined && (status >= 500 || status === 429));
}

/** An endpoint for messages: scheme, host and path only (a URL's user part is dropped). */
export function endpointLabel(endpoint: string | undefined, region = 'us-east-1'): string {
  if (!endpoint) return `AWS S3 (${region})`;
  try {
    const url = new URL(endpoint);
    return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  } catch {
    return 'the configured endpoint';
  }
}
