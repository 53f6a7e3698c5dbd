// The one mysql client a backup run asks its queries through (packages/mysql/src/client.ts),
// against a live MariaDB: answers matched to their queries, a failure confined to its query, a
// query given up stopping its client, and the client ending when idle.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { BattError } from '@batt/core';
import { clientOptionFile, sessionQuery, warmUp } from '@batt/mysql';
import { forSuite, startMariaDb } from '../lib/servers.js';

const mysqlEntry = fileURLToPath(import.meta.resolve('@batt/mysql'));

describe('mysql: one client for the queries before the dumps', () => {
  const db = forSuite(() => startMariaDb({ user: ['batt', 'client pw'] }));
  let dir: string;
  let file: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'batt-mysql-client-'));
    file = join(dir, 'client.cnf');
    writeFileSync(file, clientOptionFile({ host: '127.0.0.1', port: Number(db.env.BATT_MYSQL_PORT), user: 'batt', password: 'client pw' }), { mode: 0o600 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('answers queries asked at once each with its own rows, over one connection', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => sessionQuery(file, `SELECT CONNECTION_ID(), ${i}; SELECT 'second', ${i}`)));
    answers.forEach((rows, i) => {
      assert.equal(rows.length, 2);
      assert.equal(rows[0][1], String(i));
      assert.deepEqual(rows[1], ['second', String(i)]);
    });
    assert.equal(new Set(answers.map((rows) => rows[0][0])).size, 1, 'one connection answered them all');
  });

  it('reads cells with tabs, newlines and backslashes as the server holds them', async () => {
    assert.deepEqual(await sessionQuery(file, "SELECT 'a\\tb', 'c\\nd\\\\e', ''"), [['a\tb', 'c\nd\\e', '']]);
  });

  // Before any test kills a client: a killed one is counted in Aborted_clients when its query ends.
  it('an idle client does not keep a process that is done: it quits its connection, and the process exits at once', async () => {
    const status = async (): Promise<number> => Number((await db.sql("SHOW GLOBAL STATUS LIKE 'Aborted_clients'")).split('\t')[1]);
    const aborted = await status();
    // Timed inside the process, from the answer to its exit: the idle end would come 1000 ms
    // after the answer, and Node's start-up and imports (slow on a loaded machine) are not counted.
    const r = await execa(process.execPath, [
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(mysqlEntry)}); console.log(JSON.stringify(await m.sessionQuery(${JSON.stringify(file)}, 'SELECT 5')));
       const answered = Date.now(); process.on('exit', () => console.log(Date.now() - answered));`,
    ]);
    const [rows, waited] = r.stdout.split('\n');
    assert.equal(rows, '[["5"]]');
    assert.ok(Number(waited) < 900, `exited ${waited} ms after the answer, before the client's idle end`);
    assert.equal(await status(), aborted, 'the client quit its connection rather than being killed');
  });

  it('a failing query fails alone, with the server message; the queries queued behind it are answered', async () => {
    const [bad, good, later] = await Promise.allSettled([sessionQuery(file, 'SELECT * FROM nope.nope'), sessionQuery(file, 'SELECT 42'), sessionQuery(file, 'SELECT 43')]);
    assert.equal(bad.status, 'rejected');
    assert.match(String((bad as PromiseRejectedResult).reason.message), /1146|doesn't exist|Unknown database/);
    assert.deepEqual(good, { status: 'fulfilled', value: [['42']] });
    assert.deepEqual(later, { status: 'fulfilled', value: [['43']] });
  });

  it('a failing query fails even where an option file says force', async () => {
    const forced = join(dir, 'forced.cnf');
    writeFileSync(forced, `${clientOptionFile({ host: '127.0.0.1', port: Number(db.env.BATT_MYSQL_PORT), user: 'batt', password: 'client pw' })}force\n`, { mode: 0o600 });
    await assert.rejects(sessionQuery(forced, 'SELECT * FROM nope.nope'), /1146|doesn't exist|Unknown database/);
    assert.deepEqual(await sessionQuery(forced, 'SELECT 44'), [['44']]);
  });

  it('a query given up stops the client it waits in, with the reason given; the query queued behind it is answered by a new client', async () => {
    const [[first]] = await sessionQuery(file, 'SELECT CONNECTION_ID()');
    const stop = new AbortController();
    const started = Date.now();
    const slow = sessionQuery(file, 'SELECT SLEEP(20)', stop.signal);
    const queued = sessionQuery(file, 'SELECT CONNECTION_ID(), 7');
    setTimeout(() => stop.abort(new BattError('TIMEOUT', 'stopped after 1 s, its timeout')), 300);
    await assert.rejects(slow, /stopped after 1 s, its timeout/);
    const [[second, seven]] = await queued;
    assert.equal(seven, '7');
    assert.notEqual(second, first, 'a new client answered');
    assert.ok(Date.now() - started < 10_000, 'nobody waited for the SLEEP');
  });

  it('a query given up before its turn never runs; one that waits behind a long query goes to another client', async () => {
    await db.sql('DROP DATABASE IF EXISTS never_made');
    const started = Date.now();
    const long = sessionQuery(file, 'SELECT SLEEP(4), CONNECTION_ID()');
    const stop = new AbortController();
    const given = sessionQuery(file, 'CREATE DATABASE never_made', stop.signal);
    const waiting = sessionQuery(file, 'SELECT CONNECTION_ID()');
    setTimeout(() => stop.abort(new BattError('TIMEOUT', 'stopped after 1 s, its timeout')), 200);
    await assert.rejects(given, /its timeout/);
    const [[other]] = await waiting;
    assert.ok(Date.now() - started < 3500, `answered before the long query ended (${Date.now() - started} ms)`);
    const [[, first]] = await long;
    assert.notEqual(other, first, 'another client answered it');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await db.sql("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'never_made'")).trim(), '0', 'the query given up never ran');
  });

  it('ends when idle, and the next query starts a new one', async () => {
    const [[first]] = await sessionQuery(file, 'SELECT CONNECTION_ID()');
    await new Promise((r) => setTimeout(r, 1300));
    assert.equal((await db.sql(`SELECT COUNT(*) FROM information_schema.processlist WHERE id = ${first}`)).trim(), '0', 'the idle client disconnected');
    const [[second]] = await sessionQuery(file, 'SELECT CONNECTION_ID()');
    assert.notEqual(second, first);
  });

  it('a client started ahead (warmUp) is connected when it settles, and answers the first query', async () => {
    // Its own connection: another option file's content is another client.
    const ahead = join(dir, 'ahead.cnf');
    writeFileSync(ahead, `${readFileSync(file, 'utf8')}# ahead\n`, { mode: 0o600 });
    const connections = async (): Promise<string[]> => (await db.sql("SELECT id FROM information_schema.processlist WHERE user = 'batt' ORDER BY id")).split('\n').filter(Boolean);
    const before = await connections();
    await warmUp(ahead);
    const added = (await connections()).filter((id) => !before.includes(id));
    assert.equal(added.length, 1, 'one connection made ahead');
    assert.deepEqual(await sessionQuery(ahead, 'SELECT CONNECTION_ID()'), [[added[0]]]);
  });

  it('a warm-up alone does not keep a process that is done, even with a server that never answers', async () => {
    // A server that takes the connection and never greets: the client waits for it.
    const silent = createServer(() => {});
    await new Promise<void>((listening) => silent.listen(0, '127.0.0.1', listening));
    try {
      const mute = join(dir, 'mute.cnf');
      writeFileSync(mute, clientOptionFile({ host: '127.0.0.1', port: (silent.address() as AddressInfo).port, user: 'batt', password: 'client pw' }), { mode: 0o600 });
      const started = Date.now();
      const r = await execa(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(mysqlEntry)}); void m.warmUp(${JSON.stringify(mute)});`], {
        timeout: 20_000,
        reject: false,
      });
      assert.equal(r.timedOut, false, 'the process waited for the warm-up');
      assert.equal(r.exitCode, 0, r.stderr);
      assert.ok(Date.now() - started < 10_000);
    } finally {
      silent.close();
    }
  });

  it('a warm-up that failed fails the next query with its error, without logging in again', async () => {
    const wrong = join(dir, 'wrong.cnf');
    writeFileSync(wrong, clientOptionFile({ host: '127.0.0.1', port: Number(db.env.BATT_MYSQL_PORT), user: 'batt', password: 'not it' }), { mode: 0o600 });
    const denied = async (): Promise<number> => Number((await db.sql("SHOW GLOBAL STATUS LIKE 'Access_denied_errors'")).split('\t')[1]);
    const was = await denied();
    // A query asked while the warm-up runs waits in its client, and fails with it.
    const warming = warmUp(wrong);
    await assert.rejects(sessionQuery(wrong, 'SELECT 1'), /access denied/i);
    await warming; // settles, failed or not
    assert.equal(await denied(), was + 1, 'the waiting query did not try again');
    // Failed with no query waiting: the next one fails with its error.
    await warmUp(wrong);
    assert.equal(await denied(), was + 2);
    await assert.rejects(sessionQuery(wrong, 'SELECT 1'), /access denied/i);
    assert.equal(await denied(), was + 2, 'the query reported the warm-up failure rather than try again');
    await assert.rejects(sessionQuery(wrong, 'SELECT 1'), /access denied/i);
    assert.equal(await denied(), was + 3, 'the query after that tries again');
  });
});
