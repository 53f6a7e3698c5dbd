/**
 * age v1 (https://age-encryption.org/v1) to X25519 recipients, with node:crypto: OpenSSL's
 * ChaCha20-Poly1305, X25519, HKDF and HMAC are native, so encryption runs at memory speed where
 * the pure-JS library manages ~55 MB/s. Only what batt writes is here: the header with one X25519
 * stanza per recipient and its MAC, then the STREAM payload in 64 KiB chunks. Post-quantum and
 * other recipient types (and all decryption) stay with age-encryption.
 */
import { createCipheriv, createHmac, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** Plaintext bytes per payload chunk; each is sealed with a 16-byte Poly1305 tag. */
export const CHUNK_SIZE = 64 * 1024;
const TAG_SIZE = 16;
const VERSION_LINE = 'age-encryption.org/v1';
const X25519_INFO = 'age-encryption.org/v1/X25519';

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATOR[i];
  }
  return chk >>> 0;
}

/** Decodes a Bech32 (BIP 173, checksum constant 1) string: its human-readable part and bytes, or undefined. */
export function bech32Decode(text: string): { hrp: string; bytes: Buffer } | undefined {
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) return undefined;
  const s = text.toLowerCase();
  const sep = s.lastIndexOf('1');
  if (sep < 1 || sep + 7 > s.length) return undefined;
  const hrp = s.slice(0, sep);
  for (let i = 0; i < hrp.length; i++) if (hrp.charCodeAt(i) < 33 || hrp.charCodeAt(i) > 126) return undefined;
  const words: number[] = [];
  for (const c of s.slice(sep + 1)) {
    const v = CHARSET.indexOf(c);
    if (v < 0) return undefined;
    words.push(v);
  }
  const expanded = [...[...hrp].map((c) => c.charCodeAt(0) >> 5), 0, ...[...hrp].map((c) => c.charCodeAt(0) & 31)];
  if (polymod([...expanded, ...words]) !== 1) return undefined;
  // 5-bit words to bytes; the padding left over must be under 5 bits and zero.
  const bytes: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const w of words.slice(0, -6)) {
    acc = (acc << 5) | w;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((acc >>> bits) & 0xff);
    }
    acc &= (1 << bits) - 1;
  }
  if (bits >= 5 || acc !== 0) return undefined;
  return { hrp, bytes: Buffer.from(bytes) };
}

/** The 32-byte public key of an X25519 age recipient (`age1…`), or undefined for anything else (age1pq1…, plugins, typos). */
export function x25519Recipient(recipient: string): Buffer | undefined {
  const decoded = bech32Decode(recipient);
  return decoded?.hrp === 'age' && decoded.bytes.length === 32 ? decoded.bytes : undefined;
}

/** Base64 without padding, as age's header writes it. */
const b64 = (bytes: Buffer): string => bytes.toString('base64').replace(/=+$/, '');

const hkdf = (ikm: Buffer, salt: Buffer, info: string): Buffer => Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));

function seal(key: Buffer, nonce: Buffer, plain: Buffer): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_SIZE });
  return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

/** One `-> X25519` stanza: the file key wrapped to `recipient` through a fresh ephemeral key. */
function x25519Stanza(fileKey: Buffer, recipient: Buffer): string {
  const ephemeral = generateKeyPairSync('x25519');
  const share = Buffer.from(ephemeral.publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: recipient.toString('base64url') }, format: 'jwk' });
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey });
  if (shared.every((b) => b === 0)) throw new Error('the age recipient is a low-order point');
  const wrapKey = hkdf(shared, Buffer.concat([share, recipient]), X25519_INFO);
  const body = seal(wrapKey, Buffer.alloc(12), fileKey);
  // A 32-byte body is 43 base64 characters: one line, shorter than the 64 columns that would wrap it.
  return `-> X25519 ${b64(share)}\n${b64(body)}\n`;
}

/** The age header for `fileKey`, ending with its MAC line. */
export function ageHeader(fileKey: Buffer, recipients: readonly Buffer[]): Buffer {
  const head = `${VERSION_LINE}\n${recipients.map((r) => x25519Stanza(fileKey, r)).join('')}---`;
  const mac = createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header'))
    .update(head)
    .digest();
  return Buffer.from(`${head} ${b64(mac)}\n`);
}

/**
 * A Transform from plaintext to an age file for `recipients` (X25519 public keys). A full chunk
 * is held back until more input shows it is not the last; the last is sealed at the end (an
 * empty one only when there was no input at all).
 */
export class AgeEncrypter extends Transform {
  private readonly key: Buffer;
  private readonly nonce = Buffer.alloc(12);
  private counter = 0;
  private readonly chunk = Buffer.allocUnsafe(CHUNK_SIZE);
  private filled = 0;

  constructor(recipients: readonly Buffer[], highWaterMark?: number) {
    super({ highWaterMark, readableHighWaterMark: highWaterMark, writableHighWaterMark: highWaterMark });
    if (!recipients.length) throw new Error('age needs at least one recipient');
    const fileKey = randomBytes(16);
    const payloadNonce = randomBytes(16);
    this.key = hkdf(fileKey, payloadNonce, 'payload');
    this.push(Buffer.concat([ageHeader(fileKey, recipients), payloadNonce]));
  }

  private sealChunk(plain: Buffer, last: boolean): void {
    if (this.counter >= 2 ** 40) throw new Error('age: too many chunks');
    // 11-byte big-endian counter (it fits in the low 6 bytes), then the last-chunk flag.
    this.nonce.writeUIntBE(this.counter++, 5, 6);
    this.nonce[11] = last ? 1 : 0;
    const cipher = createCipheriv('chacha20-poly1305', this.key, this.nonce, { authTagLength: TAG_SIZE });
    const body = cipher.update(plain);
    cipher.final();
    this.push(body);
    this.push(cipher.getAuthTag());
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      let at = 0;
      while (at < data.length) {
        if (this.filled === CHUNK_SIZE) {
          this.sealChunk(this.chunk, false);
          this.filled = 0;
        }
        // Aligned and whole: seal straight from the input, no copy (unless it might be the last).
        if (this.filled === 0 && data.length - at > CHUNK_SIZE) {
          this.sealChunk(data.subarray(at, at + CHUNK_SIZE), false);
          at += CHUNK_SIZE;
          continue;
        }
        const n = Math.min(CHUNK_SIZE - this.filled, data.length - at);
        data.copy(this.chunk, this.filled, at, at + n);
        this.filled += n;
        at += n;
      }
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.sealChunk(this.chunk.subarray(0, this.filled), true);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }
}
