import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { encodeCommands } from './resp.js';
import { SnapshotMaster } from './replica.js';

/** A raw client of the master: sends commands, reads what comes back until `until` matches or the socket closes. */
async function session(port: number): Promise<{ socket: Socket; send(...command: string[]): Promise<string> }> {
  const socket = connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  let got = '';
  socket.on('data', (chunk: Buffer) => (got += chunk.toString('latin1')));
  const closed = once(socket, 'close');
  return {
    socket,
    async send(...command: string[]): Promise<string> {
      got = '';
      socket.write(encodeCommands([command]));
      for (let i = 0; i < 100 && !got.endsWith('\r\n'); i++) await Promise.race([new Promise((r) => setTimeout(r, 10)), closed]);
      return got;
    },
  };
}

describe('redis restore as a replica: the snapshot master', () => {
  it('gives the snapshot only to a replica that knows its token, once', async () => {
    const master = new SnapshotMaster();
    const port = await master.listen('127.0.0.1');
    try {
      let linked = false;
      void master.synced.then(() => (linked = true));
      const stranger = await session(port);
      assert.equal(await stranger.send('PING'), '+PONG\r\n');
      assert.match(await stranger.send('AUTH', 'guess'), /^-WRONGPASS/);
      assert.match(await stranger.send('PSYNC', '?', '-1'), /^-NOAUTH/);
      assert.ok(
        stranger.socket.destroyed || (await Promise.race([once(stranger.socket, 'close').then(() => true), new Promise((r) => setTimeout(() => r(false), 500))])),
        'the stranger is sent away',
      );

      const replica = await session(port);
      assert.equal(await replica.send('AUTH', 'default', master.token), '+OK\r\n');
      assert.equal(await replica.send('REPLCONF', 'capa', 'eof', 'capa', 'psync2'), '+OK\r\n');
      assert.equal(linked, false, 'no sync before PSYNC');
      replica.socket.write(encodeCommands([['PSYNC', '?', '-1']]));
      const link = await master.synced;
      assert.equal(link.eof, true);
      assert.equal(master.retries, 0);

      // While it loads, the replica sends a bare newline now and then; once linked, REPLCONF ACK.
      // Neither gets an answer, and the link stays.
      replica.socket.write('\n');
      replica.socket.write(encodeCommands([['REPLCONF', 'ACK', '0']]));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(replica.socket.destroyed, false, 'the link stays');
      assert.equal(await replica.send('PING'), '', 'nothing read from a linked replica is answered');

      const again = await session(port);
      await again.send('AUTH', master.token);
      assert.match(await again.send('PSYNC', '?', '-1'), /^-ERR batt sends its snapshot once/);
      assert.equal(master.retries, 1);
      replica.socket.destroy();
    } finally {
      master.close();
    }
  });
});
