/**
 * Notifications (docs/notifications.md) against real receivers started here: an HTTP server for
 * Slack, the JSON webhook and healthchecks pings, and an SMTP server for email. Every secret holds
 * one marker; none may reach a notification's body or headers (but the webhook's own
 * Authorization header, which is how it is sent), the metrics file, the output or the log.
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { execa } from 'execa';
import { holdingRun, json, repoRoot, sandboxFor, type Sandbox } from '../lib/batt.js';
import { fromQuotedPrintable, startHttpReceiver, startSmtp, type HttpReceiver, type SmtpReceiver } from '../lib/receivers.js';
import { freePort } from '../lib/servers.js';

const marker = 'MARKER-7f3a9c-batt';

/** Adds `yaml` to the sandbox's config file (0600, as a file naming secrets must be). */
function configure(box: Sandbox, yaml: string): void {
  appendFileSync(join(box.home, 'conf', 'batt.config.yaml'), yaml);
}

/** A 0600 file in the sandbox holding `text`. */
function secretFile(box: Sandbox, name: string, text: string): string {
  const path = join(box.dir, name);
  writeFileSync(path, `${text}\n`, { mode: 0o600 });
  return path;
}

function logText(box: Sandbox): string {
  const dir = join(box.home, 'logs');
  return existsSync(dir)
    ? readdirSync(dir)
        .map((n) => readFileSync(join(dir, n), 'utf8'))
        .join('')
    : '';
}

/** promtool's verdict on a metrics file; when promtool is missing, a failure only if .ci/run installs it. */
async function promtoolCheck(file: string): Promise<string | undefined> {
  const found = await execa('sh', ['-c', 'command -v promtool'], { reject: false });
  if (found.exitCode !== 0) {
    const ci = readFileSync(join(repoRoot, '.ci', 'run'), 'utf8');
    assert.doesNotMatch(ci, /^packages=\(.*\bprometheus\b/m, '.ci/run installs prometheus, yet promtool is not on PATH');
    return 'promtool is not installed (Debian: prometheus); the unit test parses the format instead';
  }
  const r = await execa('promtool', ['check', 'metrics'], { input: readFileSync(file, 'utf8'), reject: false });
  assert.equal(r.exitCode, 0, `promtool check metrics: ${r.stdout}${r.stderr}`);
  return undefined;
}

describe('notifications', () => {
  const box = sandboxFor('each');
  let http: HttpReceiver;
  let smtp: SmtpReceiver;
  beforeEach(async () => {
    http = await startHttpReceiver();
    smtp = await startSmtp('batt', `pw-${marker}`);
    await box.batt(['list']); // seeds the home
  });
  afterEach(async () => {
    await http.close();
    await smtp.close();
  });

  it('tells every channel of a failed item, names host, run, cause and `batt show N`, and leaks no secret', async (t) => {
    const slackFile = secretFile(box, 'slack.url', `${http.url}/slack/${marker}`);
    const passwordFile = secretFile(box, 'smtp.pw', `pw-${marker}`);
    const metrics = join(box.dir, 'batt.prom');
    configure(
      box,
      `notify:
  slack: { webhook_url_file: ${JSON.stringify(slackFile)} }
  webhook: { url: "${http.url}/hook", headers: ["Authorization: Bearer tok-${marker}", "X-Team: ops"] }
  email:
    to: [ops@example.org]
    from: batt@backup.example
    smtp: { host: 127.0.0.1, port: ${smtp.port}, user: batt, password_file: ${JSON.stringify(passwordFile)} }
  healthchecks: { url: "${http.url}/ping/abc" }
metrics_file: ${JSON.stringify(metrics)}
`,
    );
    // The script says every secret it can find; batt masks them before anything keeps its words.
    writeFileSync(
      join(box.home, 'scripts-available', 'backup-leaky'),
      `#!/bin/sh\necho "posting to $(cat '${slackFile}') as batt:$(cat '${passwordFile}') with $BATT_LEAKY_PASSWORD" >&2\nexit 1\n`,
      { mode: 0o755 },
    );
    const data = box.folder('data', { 'a.txt': 'hello' });
    const r = await box.batt(['leaky', 'file', '--file', data, '--json'], { env: { BATT_LEAKY_PASSWORD: `env-${marker}` } });
    assert.equal(r.exitCode, 1, r.stderr);
    const runId = json(r).id as number;

    // batt has exited: every notification was sent before it did.
    const paths = http.requests.map((q) => `${q.method} ${q.path}`);
    assert.equal(paths[0], 'GET /ping/abc/start');
    assert.deepEqual([...paths].sort(), ['GET /ping/abc/1', 'GET /ping/abc/start', 'POST /hook', `POST /slack/${marker}`].sort());

    const hook = http.requests.find((q) => q.path === '/hook')!;
    assert.equal(hook.headers.authorization, `Bearer tok-${marker}`);
    assert.equal(hook.headers['x-team'], 'ops');
    assert.equal(hook.headers['content-type'], 'application/json');
    const body = JSON.parse(hook.body);
    assert.equal(body.version, 1);
    assert.equal(body.event, 'failure');
    assert.equal(body.kind, 'backup');
    assert.equal(body.host, hostname());
    assert.equal(body.runId, runId);
    assert.equal(body.status, 'partial');
    assert.equal(body.exitCode, 1);
    assert.deepEqual([body.ok, body.failed, body.suspect], [1, 1, 0]);
    assert.equal(body.items.length, 1);
    assert.deepEqual([body.items[0].service, body.items[0].target, body.items[0].status, body.items[0].runId], ['leaky', '*', 'failed', runId]);
    assert.match(body.items[0].error, /backup-leaky/);
    assert.deepEqual(body.show, [`batt show ${runId}`]);

    const slack = JSON.parse(http.requests.find((q) => q.path.startsWith('/slack/'))!.body);
    assert.deepEqual(Object.keys(slack), ['text']);
    for (const text of [slack.text, body.text]) {
      assert.match(text, new RegExp(`^batt on ${hostname()}: backup run ${runId} PARTIAL \\(1 of 2 items failed\\)`));
      assert.match(text, /\n- leaky \*: failed: /);
      assert.match(text, new RegExp(`batt show ${runId}$`));
    }

    const [mail] = smtp.mails;
    assert.equal(smtp.mails.length, 1);
    assert.equal(mail.user, 'batt', 'logged in with the password from password_file');
    assert.deepEqual([mail.from, mail.to], ['batt@backup.example', ['ops@example.org']]);
    assert.match(mail.raw, new RegExp(`^Subject: batt on ${hostname()}: backup run ${runId} PARTIAL`, 'm'));
    const mailText = fromQuotedPrintable(mail.raw.slice(mail.raw.search(/\r?\n\r?\n/)));
    assert.match(mailText, new RegExp(`- leaky \\*: failed: [^]*batt show ${runId}`));

    // The marker: nowhere but the webhook's Authorization header, which carries it by design.
    const sent = http.requests.map((q) => JSON.stringify({ ...q, path: '', headers: { ...q.headers, authorization: undefined } })).join('\n');
    assert.doesNotMatch(sent, new RegExp(marker));
    assert.match(sent, /\*{8}/, 'the secrets the script said are masked, not dropped');
    assert.doesNotMatch(mail.raw + mailText, new RegExp(marker));
    assert.doesNotMatch(readFileSync(metrics, 'utf8'), new RegExp(marker));
    assert.doesNotMatch(r.stdout + r.stderr + logText(box), new RegExp(marker));
    // The catalog keeps the script's words, masked: no secret in its rows, nor anywhere in its files.
    const catalog = join(box.home, 'catalog.db');
    const kept = (await execa('sqlite3', [catalog, `select error from items where run_id = ${runId} and service = 'leaky'`])).stdout;
    assert.match(kept, /posting to \*{8}/, "the catalog holds the script's stderr");
    const catalogFiles = [catalog, `${catalog}-wal`].filter((f) => existsSync(f));
    assert.doesNotMatch(catalogFiles.map((f) => readFileSync(f, 'latin1')).join(''), new RegExp(marker));

    assert.equal(statSync(metrics).mode & 0o777, 0o644);
    assert.match(readFileSync(metrics, 'utf8'), /^batt_last_run_status\{status="partial"\} 1$/m);
    const skip = await promtoolCheck(metrics);
    if (skip) t.diagnostic(skip);
  });

  it('on: [success] tells of a good run; healthchecks hear of every run; the variables add to the file', async () => {
    configure(box, `notify:\n  healthchecks: { url: "${http.url}/ping/abc/" }\n`);
    const data = box.folder('data', { 'a.txt': 'hello' });
    const quiet = await box.batt(['--file', data, '--json']);
    assert.equal(quiet.exitCode, 0, quiet.stderr);
    assert.deepEqual(
      http.requests.map((q) => `${q.method} ${q.path}`),
      ['GET /ping/abc/start', 'GET /ping/abc'],
      'a good run is not a failure: only the healthchecks pings',
    );
    http.requests.length = 0;
    const r = await box.batt(['--file', data, '--json'], { env: { BATT_NOTIFY_ON: 'success', BATT_NOTIFY_WEBHOOK_URL: `${http.url}/hook` } });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(http.requests.map((q) => `${q.method} ${q.path}`).sort(), ['GET /ping/abc', 'GET /ping/abc/start', 'POST /hook']);
    const body = JSON.parse(http.requests.find((q) => q.path === '/hook')!.body);
    assert.deepEqual([body.event, body.status, body.exitCode, body.runId, body.items], ['success', 'ok', 0, json(r).id, []]);
    assert.match(body.text, new RegExp(`backup run ${json(r).id} ok \\(1 of 1 items ok\\)`));
  });

  it('a channel that refuses or never answers neither fails the run nor holds it past notify.timeout', async () => {
    const hanging = await startHttpReceiver('hang');
    // An SMTP server that takes the connection and never greets.
    const mute = createServer(() => {});
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    try {
      const dead = `http://127.0.0.1:${await freePort()}`;
      const smtpPort = (mute.address() as AddressInfo).port;
      configure(
        box,
        `notify:\n  on: [failure, success]\n  timeout: 2\n  slack: { webhook_url: "${dead}/slack" }\n  webhook: { url: "${hanging.url}/hook" }\n  healthchecks: { url: "${dead}/ping" }\n` +
          `  email: { to: [a@example.org], from: b@example.org, smtp: { host: 127.0.0.1, port: ${smtpPort} } }\n`,
      );
      const data = box.folder('data', { 'a.txt': 'hello' });
      const started = Date.now();
      const r = await box.batt(['--file', data]);
      const took = Date.now() - started;
      assert.equal(r.exitCode, 0, r.stderr);
      assert.ok(took >= 2000, `the channels were retried until the timeout (took ${took} ms)`);
      assert.ok(took < 9000, `the timeout bounds them (took ${took} ms)`);
      assert.ok(hanging.requests.length >= 1, 'the hanging webhook was tried');
      assert.match(r.stderr, /warning: \[notify\] slack: could not tell how run \d+ ended within [12]\.\d s: fetch failed: ECONNREFUSED \(\d+ tries\); the run is not affected/);
      assert.match(r.stderr, /warning: \[notify\] webhook: could not tell how run \d+ ended within 2\.\d s: no answer within/);
      assert.match(r.stderr, /warning: \[notify\] healthchecks: could not ping the start/);
      assert.match(r.stderr, /warning: \[notify\] email: could not tell how run \d+ ended within 2\.\d s/);
      assert.match(r.stdout, /run \d+: ok/);
    } finally {
      await hanging.close();
      mute.close();
    }
  });

  it('retries a channel that answers 500, and sends once it answers 200', async () => {
    http.answer = 2;
    configure(box, `notify:\n  on: [success]\n  webhook: { url: "${http.url}/hook" }\n`);
    const r = await box.batt(['--file', box.folder('data', { 'a.txt': 'x' })]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(http.requests.length, 3);
    assert.doesNotMatch(r.stderr, /notify/);
  });

  it('tells of a failed verify (not healthchecks), and the metrics file shows it', async () => {
    const metrics = join(box.dir, 'batt.prom');
    configure(box, `notify:\n  webhook: { url: "${http.url}/hook" }\n  healthchecks: { url: "${http.url}/ping/abc" }\nmetrics_file: ${JSON.stringify(metrics)}\n`);
    const data = box.folder('data', { 'a.txt': 'hello' });
    const b = json(await box.batt(['--file', data, '--json']));
    http.requests.length = 0;
    writeFileSync(b.items[0].file, 'not the backup');
    const v = await box.batt(['verify', String(b.id)]);
    assert.equal(v.exitCode, 1, v.stderr);
    assert.deepEqual(
      http.requests.map((q) => `${q.method} ${q.path}`),
      ['POST /hook'],
    );
    const body = JSON.parse(http.requests[0].body);
    assert.deepEqual([body.kind, body.event, body.status, body.exitCode, body.runId], ['verify', 'failure', 'failed', 1, undefined]);
    assert.deepEqual([body.items[0].service, body.items[0].check, body.items[0].runId], ['file', 'verify', b.id]);
    assert.match(body.text, new RegExp(`^batt on .*: verify FAILED \\(1 of 1 checks failed\\)\\n- file .* \\(run ${b.id}\\) verify: failed: `));
    assert.match(readFileSync(metrics, 'utf8'), /^batt_last_check_success\{service="file",target=".*",check="verify"\} 0$/m);
  });

  it('a run that cannot start because another holds the lock is told as a failure, and healthchecks hear exit 75', async () => {
    configure(box, `notify:\n  webhook: { url: "${http.url}/hook" }\n  healthchecks: { url: "${http.url}/ping/abc" }\n`);
    const first = await holdingRun(box);
    // The first run's start ping is its own: wait for it, so only the skipped run's come after.
    for (let i = 0; i < 400 && !http.requests.some((q) => q.path === '/ping/abc/start'); i++) await new Promise((r) => setTimeout(r, 50));
    const before = http.requests.length;
    const skipped = await box.batt(['--file', box.folder('data', { a: 'alpha' })]);
    // batt has exited: what it told is in, and the first run has not finished yet.
    const told = http.requests.slice(before);
    first.release();
    assert.equal((await first.run).exitCode, 0);
    assert.equal(skipped.exitCode, 75, skipped.stderr);
    assert.deepEqual(told.map((q) => `${q.method} ${q.path}`).sort(), ['GET /ping/abc/75', 'POST /hook']);
    const body = JSON.parse(told.find((q) => q.path === '/hook')!.body);
    assert.equal(body.exitCode, 75);
    assert.equal(body.event, 'failure');
    assert.match(body.text, /backup SKIPPED/);
    assert.match(body.error, /another batt run \(pid \d+\)/);
  });

  it('refuses an incomplete or unknown notify: before the run', async () => {
    configure(box, `notify:\n  webhook: { headers: ["X-A: b"] }\n`);
    const data = box.folder('data', { 'a.txt': 'x' });
    const missing = await box.batt(['--file', data]);
    assert.equal(missing.exitCode, 2);
    assert.match(missing.stderr, /notify\.webhook\.url is missing/);
    const runs = await box.batt(['runs', '--json']);
    assert.deepEqual(json(runs), [], 'no run was recorded');
    const bad = await box.batt(['--file', data], { env: { BATT_NOTIFY_ON: 'failure,sometimes', BATT_NOTIFY_WEBHOOK_URL: `${http.url}/hook` } });
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /"BATT_NOTIFY_ON" must be a list of "failure", "success", "suspect"/);
  });
});
