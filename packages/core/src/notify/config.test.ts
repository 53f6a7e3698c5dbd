import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { mergeConfigData, mergeEnv, type BattConfig } from '../config/load.js';
import { collectSecrets, holdsSecret } from '../config/secrets.js';
import { channelsOf } from './index.js';

const fresh = (): BattConfig => ({ services: {}, files: [] });

describe('the notify: section', () => {
  const dir = mkdtempSync(join(tmpdir(), 'batt-notify-keys-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('checks `on` against failure, success, suspect, naming the key and the source', () => {
    const config = fresh();
    mergeConfigData(config, { notify: { on: 'suspect' } }, 'f.yaml', []);
    assert.deepEqual(config.notify?.on, ['suspect']);
    assert.throws(
      () => mergeConfigData(fresh(), { notify: { on: ['failure', 'always'] } }, 'f.yaml', []),
      /f\.yaml: "notify\.on" must be a list of "failure", "success", "suspect"/,
    );
    assert.throws(() => mergeConfigData(fresh(), { notify: { slack: { url: 'x' } } }, 'f.yaml', []), /unknown key "notify\.slack\.url"/);
  });

  it('its variables carry its name and add to the file’s section, level by level', () => {
    const config = fresh();
    mergeConfigData(config, { notify: { on: ['failure'], email: { to: ['a@x'], from: 'b@x', smtp: { host: 'mail', port: 25 } } } }, 'f.yaml', []);
    mergeEnv(config, { BATT_NOTIFY_ON: 'failure,suspect', BATT_NOTIFY_EMAIL_SMTP_PORT: '587', BATT_NOTIFY_WEBHOOK_URL: 'http://h/x', BATT_HOST: 'not notify' }, []);
    assert.deepEqual(config.notify, {
      on: ['failure', 'suspect'],
      email: { to: ['a@x'], from: 'b@x', smtp: { host: 'mail', port: 587 } },
      webhook: { url: 'http://h/x' },
    });
  });

  it('its secrets are masked: the Slack URL (file or variable), the SMTP password, secret headers', () => {
    const url = join(dir, 'slack.url');
    const pw = join(dir, 'smtp.pw');
    writeFileSync(url, 'https://hooks.slack.example/T/B/xyz\n', { mode: 0o600 });
    writeFileSync(pw, 'smtp-pw\n', { mode: 0o600 });
    const config = fresh();
    mergeConfigData(
      config,
      {
        notify: {
          slack: { webhook_url_file: url },
          webhook: { url: 'http://h/x', headers: ['Authorization: Bearer tok', 'X-Api-Key: k3y', 'Content-Type: text/plain'] },
          email: { smtp: { password_file: pw } },
        },
      },
      'f.yaml',
      [],
    );
    const secrets = collectSecrets(config, { BATT_NOTIFY_SLACK_WEBHOOK_URL: 'https://hooks.slack.example/env', BATT_NOTIFY_EMAIL_SMTP_PASSWORD: 'env-pw' });
    for (const s of ['https://hooks.slack.example/T/B/xyz', 'smtp-pw', 'Bearer tok', 'k3y', 'https://hooks.slack.example/env', 'env-pw']) assert.ok(secrets.has(s), s);
    assert.ok(!secrets.has('text/plain'));
    assert.ok(!secrets.has('http://h/x'), 'the webhook URL is not a secret');
  });

  it('a file holding a Slack URL or a secret header must be 0600; one naming files need not', () => {
    assert.ok(holdsSecret({ notify: { slack: { webhook_url: 'https://hooks.slack.example/x' } } }));
    assert.ok(holdsSecret({ notify: { webhook: { headers: ['Authorization: Bearer x'] } } }));
    assert.ok(!holdsSecret({ notify: { webhook: { url: 'http://h', headers: ['X-Team: ops'] }, slack: { webhook_url_file: '/f' } } }));
  });

  it('a channel without what it needs is a config error; none configured, no channel', () => {
    assert.deepEqual(channelsOf({}), []);
    assert.throws(() => channelsOf({ slack: {} }), /notify\.slack\.webhook_url_file is missing/);
    assert.throws(() => channelsOf({ email: { to: ['a@x'], from: 'b@x' } }), /notify\.email\.smtp is missing/);
    assert.throws(() => channelsOf({ email: { to: ['a@x'], from: 'b@x', smtp: {} } }), /notify\.email\.smtp\.host is missing/);
    assert.throws(() => channelsOf({ healthchecks: {} }), /notify\.healthchecks\.url is missing/);
    assert.deepEqual(
      channelsOf({ webhook: { url: 'http://h' }, healthchecks: { url: 'http://h' } }).map((c) => c.name),
      ['webhook', 'healthchecks'],
    );
  });
});
