/**
 * `batt serve`: the JSON API over a real catalog, and its safety: Host check, token, methods,
 * headers, loopback by default, no secret in any answer, and a backup that runs beside it.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import { battBin, json, sandbox, sandboxFor, type Sandbox } from '../lib/batt.js';

const marker = 'SERVE-MARKER-5e3c';

/** A GET (or `method`) with the headers given, Host included, to the server at `port`. */
function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function startServe(box: Sandbox, args: string[] = [], env: Record<string, string> = {}): Promise<{ port: number; proc: ResultPromise; shown: string }> {
  const proc = execa(process.execPath, [battBin, '--home', box.home, 'serve', '--port', '0', ...args], { reject: false, extendEnv: false, env: box.env(env) });
  const [shown, port] = await new Promise<[string, number]>((resolve, reject) => {
    let seen = '';
    proc.stdout!.on('data', (c: Buffer) => {
      seen += c.toString();
      const m = /http:\/\/(\S+):(\d+)\//.exec(seen);
      if (m) resolve([m[1], Number(m[2])]);
    });
    void proc.then((r) => reject(new Error(`batt serve ended: ${String(r.stderr)}`)));
  });
  return { port, proc, shown };
}

/** The local addresses (as /proc/net/tcp and tcp6 write them) of the sockets listening on `port`. */
function listeningOn(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((table) =>
    readFileSync(table, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f[3] === '0A' && f[1]?.endsWith(`:${hexPort}`))
      .map((f) => f[1]),
  );
}

describe('batt serve', () => {
  let box: Sandbox;
  let good: number;
  let bad: number;
  let hostile: string;
  let server: { port: number; proc: ResultPromise };
  before(async () => {
    box = sandbox();
    appendFileSync(join(box.home, 'conf', 'batt.config.yaml'), `mysql:\n  password: "${marker}"\n`);
    hostile = box.folder('<img src=x onerror=alert(1)>', { a: 'alpha' });
    good = json(await box.batt(['--file', hostile, '--json'])).id;
    bad = json(await box.batt(['--file', join(box.dir, 'gone'), '--json'])).id;
    server = await startServe(box);
  });
  after(async () => {
    server?.proc.kill('SIGTERM');
    await server?.proc;
    box.cleanup();
  });

  it('/api/overview: every target with its last good backup, the worst news first', async () => {
    const r = await get(server.port, '/api/overview');
    assert.equal(r.status, 200);
    const { targets } = JSON.parse(r.body);
    assert.deepEqual(
      targets.map((t: { target: string }) => t.target),
      [join(box.dir, 'gone'), hostile],
      'the target that never had a good backup first',
    );
    assert.equal(targets[0].lastGood, null);
    assert.equal(targets[0].failuresSince, 1);
    assert.equal(targets[1].lastGood.runId, good);
    assert.deepEqual(targets[1].lastGood.copies, ['local']);
    assert.ok(targets[1].lastGood.ageSeconds >= 0 && targets[1].lastGood.ageSeconds < 600);
    assert.equal(targets[1].maxAgeSeconds, 30 * 3600, "no max_age: the daily schedule's period and a quarter");
    assert.deepEqual(
      targets.map((t: { stale: boolean }) => t.stale),
      [true, false],
    );
    const { days } = JSON.parse(r.body);
    assert.equal(days.length, 90);
    assert.deepEqual(days[89], { day: days[89].day, outcome: 'partial', ok: 1, failed: 1, suspect: 0, verified: 0 }, 'today: one good, one failed');
    assert.ok(days.slice(0, 89).every((d: { outcome: string }) => d.outcome === 'none'));
  });

  it('/api/targets/<service>/<target>: its state, its backups for the charts, its days', async () => {
    const r = await get(server.port, `/api/targets/file/${encodeURIComponent(hostile)}`);
    assert.equal(r.status, 200, r.body);
    const d = JSON.parse(r.body);
    assert.equal(d.state.target, hostile);
    assert.deepEqual(
      d.history.map((h: { runId: number; status: string }) => [h.runId, h.status]),
      [[good, 'ok']],
    );
    assert.ok(d.history[0].bytes > 0 && d.history[0].seconds >= 0);
    assert.equal(d.days[89].outcome, 'ok');
    assert.equal((await get(server.port, '/api/targets/file/%2Fnowhere')).status, 404);
    assert.equal((await get(server.port, '/api/targets/file/%E0%A4%A')).status, 400);
  });

  it('/api/runs pages by keyset and filters; /api/runs/<id> has the fields of `batt show --json`', async () => {
    const first = JSON.parse((await get(server.port, '/api/runs?limit=1')).body);
    assert.deepEqual(
      first.runs.map((r: { id: number }) => r.id),
      [bad],
    );
    assert.equal(first.next, bad);
    const second = JSON.parse((await get(server.port, `/api/runs?limit=1&before=${first.next}`)).body);
    assert.deepEqual(
      second.runs.map((r: { id: number }) => r.id),
      [good],
    );
    assert.equal(second.next, null);
    const failed = JSON.parse((await get(server.port, '/api/runs?status=failed')).body);
    assert.deepEqual(
      failed.runs.map((r: { id: number }) => r.id),
      [bad],
    );
    assert.equal((await get(server.port, '/api/runs?limit=0')).status, 400);
    assert.equal((await get(server.port, '/api/runs?status=nonsense')).status, 400);
    const today = new Date();
    const day = (d: Date): string => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    const tomorrow = day(new Date(today.getTime() + 86_400_000));
    const ids = async (query: string): Promise<number[]> => JSON.parse((await get(server.port, `/api/runs?${query}`)).body).runs.map((r: { id: number }) => r.id);
    assert.deepEqual(await ids(`since=${day(today)}&until=${day(today)}`), [bad, good], 'both ran today');
    assert.deepEqual(await ids(`since=${tomorrow}`), []);
    assert.deepEqual(await ids(`service=mysql`), []);
    assert.equal((await get(server.port, '/api/runs?since=yesterday')).status, 400);
    assert.equal((await get(server.port, '/api/runs?since=2026-02-31')).status, 400, 'a day that does not exist');
    const one = await get(server.port, `/api/runs/${good}`);
    assert.equal(one.status, 200);
    assert.deepEqual(JSON.parse(one.body), json(await box.batt(['show', String(good), '--json'])));
    assert.equal((await get(server.port, '/api/runs/99999')).status, 404);
  });

  it('refuses a foreign Host and any method but GET and HEAD; answers with a strict CSP and nosniff; no secret anywhere', async () => {
    const foreign = await get(server.port, '/api/overview', { host: 'evil.example:8484' });
    assert.equal(foreign.status, 403);
    assert.equal((await get(server.port, '/api/overview', {}, 'POST')).status, 405);
    const r = await get(server.port, '/api/overview');
    assert.match(String(r.headers['content-security-policy']), /default-src 'none'.*frame-ancestors 'none'/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    const all = [r.body, (await get(server.port, '/api/runs')).body, (await get(server.port, `/api/runs/${good}`)).body, (await get(server.port, `/api/runs/${bad}`)).body].join(
      '',
    );
    assert.equal(JSON.parse((await get(server.port, `/api/runs/${good}`)).body).items[0].target, hostile, 'the hostile name is data, as it is');
    assert.ok(!all.includes(marker), 'no secret from the configuration');
  });

  it('the pages: every name escaped, the stylesheet from the server, a 404 page for the rest', async () => {
    const pages = ['/', '/runs', '/runs?status=failed', `/runs/${good}`, `/runs/${bad}`, `/targets/file/${encodeURIComponent(hostile)}`];
    for (const path of pages) {
      const r = await get(server.port, path);
      assert.equal(r.status, 200, path);
      assert.equal(r.headers['content-type'], 'text/html; charset=utf-8', path);
      assert.match(String(r.headers['content-security-policy']), /script-src 'none'/);
      assert.ok(!r.body.includes('<img src=x'), `${path}: the hostile name is not markup`);
      assert.ok(!r.body.includes(marker), `${path}: no secret`);
      if (!path.startsWith('/runs?') && path !== '/runs' && path !== `/runs/${bad}`)
        assert.ok(r.body.includes('&lt;img src=x onerror=alert(1)&gt;'), `${path}: the hostile name is shown as text`);
    }
    const overviewPage = (await get(server.port, '/')).body;
    assert.match(overviewPage, /1 of 2 targets need attention/);
    assert.equal((overviewPage.match(/<rect class="/g) ?? []).length, 90, 'a strip of 90 days');
    const css = await get(server.port, '/static/batt.css');
    assert.equal(css.status, 200);
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    const missing = await get(server.port, '/nowhere');
    assert.equal(missing.status, 404);
    assert.match(missing.body, /<h1>Not found<\/h1>/);
    assert.equal((await get(server.port, '/runs?limit=x')).status, 400);
  });

  it('a backup runs beside it: the server holds no lock a backup waits for', async () => {
    const started = Date.now();
    const r = await box.batt(['--file', hostile]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.ok(Date.now() - started < 20_000);
    const runs = JSON.parse((await get(server.port, '/api/runs?limit=1')).body).runs;
    assert.equal(runs[0].status, 'ok', 'and the server sees it');
  });
});

describe('batt serve: max_age', () => {
  const box = sandboxFor('each');

  it("a service's max_age marks its target late; a max_age that is no duration stops the server at start", async () => {
    appendFileSync(join(box.home, 'conf', 'batt.config.yaml'), 'max_age: 2h\nfile:\n  max_age: 1s\n');
    const data = box.folder('data', { a: 'alpha' });
    assert.equal((await box.batt(['--file', data])).exitCode, 0);
    await new Promise((r) => setTimeout(r, 1500));
    const s = await startServe(box);
    try {
      const [t] = JSON.parse((await get(s.port, '/api/overview')).body).targets;
      assert.equal(t.maxAgeSeconds, 1);
      assert.equal(t.stale, true);
      assert.match((await get(s.port, '/')).body, /<span class="badge late">late<\/span>/);
    } finally {
      s.proc.kill('SIGTERM');
      await s.proc;
    }
    appendFileSync(join(box.home, 'conf', 'batt.config.yaml'), 'redis:\n  max_age: soon\n');
    const bad = await box.batt(['serve', '--port', '0']);
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /redis: max_age "soon" is not a duration\nhint: write it as 90s, 30m, 2h or 1d/);
  });
});

describe('batt serve with a token, and beyond loopback', () => {
  const box = sandboxFor('each');

  it('refuses to listen beyond loopback without a token; with one, every request must carry it', async () => {
    const open = await box.batt(['serve', '--host', '0.0.0.0', '--port', '0']);
    assert.equal(open.exitCode, 2);
    assert.match(open.stderr, /without a token\nhint: set serve.token_file/);
    const token = 'a'.repeat(20) + '-token';
    const s = await startServe(box, [], { BATT_SERVE_TOKEN: token });
    try {
      assert.equal((await get(s.port, '/api/overview')).status, 403, 'no token');
      assert.equal((await get(s.port, '/api/overview', { authorization: 'Bearer wrong' })).status, 403, 'a wrong token');
      assert.equal((await get(s.port, '/api/overview', { authorization: `Bearer ${token}` })).status, 200);
      assert.equal((await get(s.port, '/')).status, 403, 'the pages too');
      assert.equal((await get(s.port, '/', { authorization: `Bearer ${token}` })).status, 200);
    } finally {
      s.proc.kill('SIGTERM');
      await s.proc;
    }
  });

  it('listens on 127.0.0.1 alone by default; beyond loopback, a request needs the token and the bound address as its Host', async () => {
    const box = sandbox();
    try {
      const plain = await startServe(box);
      try {
        assert.equal(plain.shown, '127.0.0.1');
        const hexPort = plain.port.toString(16).toUpperCase().padStart(4, '0');
        assert.deepEqual(listeningOn(plain.port), [`0100007F:${hexPort}`], 'one listening socket, on 127.0.0.1, none on another address or on IPv6');
      } finally {
        plain.proc.kill('SIGTERM');
        await plain.proc;
      }
      // An address batt counts as beyond loopback (it is not 127.x, ::1 or localhost) that still
      // only this machine reaches: 127.0.0.1 in its IPv4-mapped IPv6 form. The test sends nothing
      // off the machine.
      const bound = '::ffff:127.0.0.1';
      assert.equal((await box.batt(['serve', '--host', bound, '--port', '0'])).exitCode, 2, 'no token: it does not listen');
      const token = 'b'.repeat(20) + '-token';
      const s = await startServe(box, ['--host', bound], { BATT_SERVE_TOKEN: token });
      try {
        assert.equal(s.shown, `[${bound}]`);
        const host = `[${bound}]:${s.port}`;
        const bearer = { authorization: `Bearer ${token}` };
        const noToken = await get(s.port, '/api/overview', { host });
        assert.equal(noToken.status, 403, 'the bound address as Host, no token');
        assert.match(noToken.body, /Authorization: Bearer/);
        assert.equal((await get(s.port, '/api/overview', { host, ...bearer })).status, 200, 'the bound address as Host, and the token');
        for (const other of [`127.0.0.1:${s.port}`, `localhost:${s.port}`, 'evil.example']) {
          const r = await get(s.port, '/api/overview', { host: other, ...bearer });
          assert.equal(r.status, 403, `Host ${other}, with the token`);
          assert.match(r.body, /this Host is not the address batt serve listens on/);
        }
      } finally {
        s.proc.kill('SIGTERM');
        await s.proc;
      }
    } finally {
      box.cleanup();
    }
  });
});
