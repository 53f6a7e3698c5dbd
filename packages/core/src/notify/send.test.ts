import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SendError, withRetries } from './send.js';

describe('sending inside a deadline', () => {
  it('retries a failing attempt until it succeeds', async () => {
    let tries = 0;
    await withRetries(async () => {
      if (++tries < 3) throw new Error('ECONNRESET');
    }, Date.now() + 5000);
    assert.equal(tries, 3);
  });

  it('stops at a permanent failure, saying it and how many tries it took', async () => {
    let tries = 0;
    await assert.rejects(
      withRetries(async () => {
        tries++;
        throw new SendError('HTTP 404 Not Found', true);
      }, Date.now() + 5000),
      /^Error: HTTP 404 Not Found \(1 try\)$/,
    );
    assert.equal(tries, 1);
  });

  it('gives up at the deadline with the last failure, however long an attempt would hang', async () => {
    const started = Date.now();
    await assert.rejects(
      withRetries(() => new Promise<void>(() => {}), started + 700),
      /no answer within 0\.7 s \(1 try\)/,
    );
    const took = Date.now() - started;
    assert.ok(took >= 650 && took < 1200, `took ${took} ms`);
    let tries = 0;
    await assert.rejects(
      withRetries(async () => {
        tries++;
        throw new Error('fetch failed');
      }, Date.now() + 1000),
      /^Error: fetch failed \(2 tries\)$/,
    );
    assert.equal(tries, 2, 'tried at 0 and after 0.5 s; the next pause (1 s) would pass the deadline');
  });

  it('aborts the attempt it cuts off', async () => {
    let aborted = false;
    await assert.rejects(
      withRetries(
        (signal) =>
          new Promise<void>(() => {
            signal.addEventListener('abort', () => (aborted = true));
          }),
        Date.now() + 200,
      ),
    );
    assert.ok(aborted);
  });
});
