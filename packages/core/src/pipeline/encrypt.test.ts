import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { Decrypter, generateIdentity, identityToRecipient } from 'age-encryption';
import { encryptStage } from './encrypt.js';

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

describe('encryptStage (age)', () => {
  it("streams ciphertext that age-encryption's Decrypter turns back into the input, for every recipient", async () => {
    const [one, two] = [await generateIdentity(), await generateIdentity()];
    const recipients = [await identityToRecipient(one), await identityToRecipient(two)];
    // 3 MiB in uneven chunks: more than one 64 KiB age chunk, and a last one that is partial.
    const chunks = Array.from({ length: 48 }, (_, i) => randomBytes(65_536 + (i % 7) * 1000));
    const plain = Buffer.concat(chunks);
    const stage = await encryptStage({ method: 'age', recipients }, Readable.from(chunks), new AbortController().signal);
    const [cipher] = await Promise.all([bytesOf(stage.output), stage.done]);
    assert.equal(cipher.subarray(0, 21).toString(), 'age-encryption.org/v1');
    assert.ok(cipher.length > plain.length);
    assert.equal(cipher.indexOf(plain.subarray(0, 64)), -1, 'no plaintext in the output');
    for (const identity of [one, two]) {
      const decrypter = new Decrypter();
      decrypter.addIdentity(identity);
      const back = Buffer.from(await decrypter.decrypt(new Uint8Array(cipher)));
      assert.equal(createHash('sha256').update(back).digest('hex'), createHash('sha256').update(plain).digest('hex'));
    }
    const stranger = new Decrypter();
    stranger.addIdentity(await generateIdentity());
    await assert.rejects(stranger.decrypt(new Uint8Array(cipher)), /no identity matched/);
  });

  it('fails when its input fails', async () => {
    const recipient = await identityToRecipient(await generateIdentity());
    const input = new Readable({ read() {} });
    const stage = await encryptStage({ method: 'age', recipients: [recipient] }, input, new AbortController().signal);
    input.push(Buffer.from('some bytes'));
    input.destroy(new Error('the compressor died'));
    const drained = bytesOf(stage.output).catch((error: Error) => error);
    await assert.rejects(stage.done);
    assert.ok((await drained) instanceof Error);
  });
});
