import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeCommands, firstError, ReplyParser, type Reply } from './resp.js';

/** Every reply the parser gives for `wire` fed in chunks of `size` bytes. */
function parse(wire: Buffer, size: number): Reply[] {
  const replies: Reply[] = [];
  const parser = new ReplyParser((r) => replies.push(r));
  for (let i = 0; i < wire.length; i += size) parser.push(wire.subarray(i, i + size));
  return replies;
}

describe('redis RESP', () => {
  it('encodes commands with binary-safe arguments', () => {
    const key = Buffer.from([0xff, 0x00, 0x0d, 0x0a]);
    assert.deepEqual(
      encodeCommands([['PING'], ['SET', key, 'é']]),
      Buffer.concat([Buffer.from('*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$4\r\n'), key, Buffer.from('\r\n$2\r\né\r\n')]),
    );
  });

  it('reads nested arrays, nulls, integers and errors the same whatever the chunk size', () => {
    const wire = Buffer.from('+OK\r\n*3\r\n$3\r\na\r\n\r\n$-1\r\n*2\r\n:-2\r\n$0\r\n\r\n-BUSYKEY Target key name already exists.\r\n*0\r\n*-1\r\n');
    const whole = parse(wire, wire.length);
    assert.deepEqual(whole.slice(0, 2), ['OK', [Buffer.from('a\r\n'), null, [-2, Buffer.alloc(0)]]]);
    assert.ok(whole[2] instanceof Error && whole[2].message.startsWith('BUSYKEY'));
    assert.deepEqual(whole.slice(3), [[], null]);
    for (const size of [1, 2, 3, 7]) assert.deepEqual(parse(wire, size), whole, `chunks of ${size} bytes`);
    assert.equal(firstError(whole), 'BUSYKEY Target key name already exists.');
    assert.equal(firstError(whole.slice(0, 2)), undefined);
  });

  it('reads a value of many chunks whole, and the reply after it', () => {
    const value = Buffer.alloc(5_000_000, 'v');
    const wire = Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n+OK\r\n')]);
    const [read, ok] = parse(wire, 65_536);
    assert.ok(Buffer.isBuffer(read) && read.equals(value));
    assert.equal(ok, 'OK');
  });

  it('refuses a reply it cannot read', () => {
    assert.throws(() => parse(Buffer.from('?what\r\n'), 64), /a reply batt cannot read/);
  });
});
