import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Decrypter, generateHybridIdentity, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { AgeEncrypter, bech32Decode, x25519Recipient } from './age.js';
import { encryptStage } from './encrypt.js';

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** `plain` through AgeEncrypter, fed in uneven pieces (one of them larger than a chunk). */
async function encrypt(plain: Buffer, recipients: string[]): Promise<Buffer> {
  const cuts = [0, Math.floor(plain.length / 7), Math.floor(plain.length / 2), plain.length];
  const pieces = cuts.slice(1).map((end, i) => plain.subarray(cuts[i], end));
  const encrypter = new AgeEncrypter(recipients.map((r) => x25519Recipient(r)!));
  const [cipher] = await Promise.all([bytesOf(encrypter), Readable.from(pieces.filter((p) => p.length)).pipe(encrypter)]);
  return cipher;
}

describe('age in node:crypto', () => {
  let dir: string;
  const keys: { file: string; recipient: string }[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'batt-age-'));
    for (const name of ['one.txt', 'two.txt']) {
      const file = join(dir, name);
      execFileSync('age-keygen', ['-o', file], { stdio: 'ignore' });
      keys.push({ file, recipient: execFileSync('age-keygen', ['-y', file], { encoding: 'utf8' }).trim() });
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const size of [0, 1, 65_535, 65_536, 65_537, 131_072, 3 * 1024 * 1024 + 17]) {
    for (const count of [1, 2]) {
      it(`${size} bytes to ${count} recipient(s): Debian's age -d and age-encryption both read it back`, async () => {
        const plain = randomBytes(size);
        const cipher = await encrypt(
          plain,
          keys.slice(0, count).map((k) => k.recipient),
        );
        // Header, 16-byte nonce, then one 16-byte tag per 64 KiB chunk (at least one chunk, even empty).
        const chunks = Math.max(1, Math.ceil(size / 65_536));
        const header = cipher.indexOf('\n', cipher.indexOf('\n---') + 1) + 1;
        assert.equal(cipher.length, header + 16 + size + 16 * chunks);
        const file = join(dir, `c${size}-${count}.age`);
        writeFileSync(file, cipher);
        for (const key of keys.slice(0, count)) {
          assert.equal(sha(execFileSync('age', ['-d', '-i', key.file, file], { maxBuffer: 1 << 26 })), sha(plain), `age -d -i ${key.file}`);
          const decrypter = new Decrypter();
          decrypter.addIdentity(execFileSync('grep', ['^AGE-SECRET-KEY', key.file], { encoding: 'utf8' }).trim());
          assert.equal(sha(await decrypter.decrypt(new Uint8Array(cipher))), sha(plain), 'age-encryption');
        }
        if (count === 1) assert.notEqual(execFileSync('sh', ['-c', `age -d -i "${keys[1].file}" "${file}" >/dev/null 2>&1; echo $?`], { encoding: 'utf8' }).trim(), '0');
      });
    }
  }

  it('writes the header as the spec does: version line, one X25519 stanza per recipient, MAC line', async () => {
    const cipher = await encrypt(
      Buffer.from('x'),
      keys.map((k) => k.recipient),
    );
    const lines = cipher
      .subarray(0, cipher.indexOf('\n---') + 48)
      .toString('latin1')
      .split('\n');
    assert.equal(lines[0], 'age-encryption.org/v1');
    for (const i of [1, 3]) {
      assert.match(lines[i], /^-> X25519 [A-Za-z0-9+/]{43}$/);
      assert.match(lines[i + 1], /^[A-Za-z0-9+/]{43}$/);
    }
    assert.match(lines[5], /^--- [A-Za-z0-9+/]{43}$/);
  });

  it('gets each file a fresh file key: the same input encrypts differently', async () => {
    const plain = randomBytes(1000);
    const [a, b] = [await encrypt(plain, [keys[0].recipient]), await encrypt(plain, [keys[0].recipient])];
    assert.notEqual(sha(a), sha(b));
  });

  it('reads X25519 recipients only, and only well-formed ones', async () => {
    const recipient = keys[0].recipient;
    assert.equal(x25519Recipient(recipient)?.length, 32);
    assert.deepEqual(x25519Recipient(recipient.toUpperCase()), x25519Recipient(recipient));
    const typo = recipient.slice(0, -1) + (recipient.endsWith('q') ? 'p' : 'q');
    assert.equal(x25519Recipient(typo), undefined, 'bad checksum');
    assert.equal(x25519Recipient(recipient.slice(0, 10) + recipient.slice(10).toUpperCase()), undefined, 'mixed case');
    assert.equal(x25519Recipient('AGE-SECRET-KEY-1' + 'Q'.repeat(58)), undefined);
    assert.equal(x25519Recipient(await identityToRecipient(await generateHybridIdentity())), undefined, 'age1pq1…');
    assert.equal(bech32Decode(recipient)?.hrp, 'age');
    // The library's own encoding of a key decodes to the same key the library derives it from.
    const identity = await generateX25519Identity();
    assert.equal(x25519Recipient(await identityToRecipient(identity))?.length, 32);
  });

  it('leaves post-quantum recipients to age-encryption, whose Decrypter reads them back', async () => {
    const identity = await generateHybridIdentity();
    const recipient = await identityToRecipient(identity);
    const plain = randomBytes(100_000);
    const stage = await encryptStage({ method: 'age', recipients: [recipient] }, Readable.from([plain]), new AbortController().signal);
    const [cipher] = await Promise.all([bytesOf(stage.output), stage.done]);
    assert.match(cipher.toString('latin1', 0, 200), /-> mlkem768x25519 /);
    const decrypter = new Decrypter();
    decrypter.addIdentity(identity);
    assert.equal(sha(await decrypter.decrypt(new Uint8Array(cipher))), sha(plain));
  });
});
