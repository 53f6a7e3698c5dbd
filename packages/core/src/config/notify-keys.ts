/**
 * The `notify:` section (docs/notifications.md): when to tell people about a run, and through which
 * channels. Its variables carry its name: `notify.slack.webhook_url_file` is
 * BATT_NOTIFY_SLACK_WEBHOOK_URL_FILE, and they add to the file's section rather than replace it.
 */
import type { ConfigKeySpec } from './schema.js';

export const notifyWhen = ['failure', 'success', 'suspect'] as const;
export type NotifyWhen = (typeof notifyWhen)[number];

/** The validated `notify:` section; which keys a channel needs is checked when the run starts (notify/index.ts). */
export interface NotifyConfig {
  on?: readonly NotifyWhen[];
  /** Seconds the notifications of a run may take in all, retries included. */
  timeout?: number;
  slack?: { webhook_url?: string; webhook_url_file?: string };
  webhook?: { url?: string; headers?: readonly string[] };
  email?: {
    to?: readonly string[];
    from?: string;
    smtp?: { host?: string; port?: number; secure?: boolean; user?: string; password?: string; password_file?: string };
  };
  healthchecks?: { url?: string; failure?: 'exit_code' | 'fail' };
}

const mapping = (describe: string, keys: Record<string, ConfigKeySpec>): ConfigKeySpec => ({ type: 'mapping', prefixed: true, describe, keys });

export const notifyKeys: ConfigKeySpec = mapping('who hears about a run: slack, webhook, email, healthchecks (docs/notifications.md)', {
  on: { type: 'string[]', values: notifyWhen, describe: 'when the slack, webhook and email channels are told: failure, success, suspect [failure]' },
  timeout: { type: 'number', min: 1, max: 600, describe: "seconds a run's notifications may take in all, retries included [10]" },
  slack: mapping('a Slack incoming webhook', {
    webhook_url_file: { type: 'string', describe: 'a 0600 file holding the incoming webhook URL (a secret)' },
    webhook_url: { type: 'string', describe: 'the incoming webhook URL (a secret: prefer webhook_url_file or BATT_NOTIFY_SLACK_WEBHOOK_URL)' },
  }),
  webhook: mapping('a POST of a JSON body (docs/notifications.md) to a URL', {
    url: { type: 'string', describe: 'the URL that gets the POST' },
    headers: { type: 'string[]', describe: 'extra headers, each "Name: value"; Authorization and token values are masked like passwords' },
  }),
  email: mapping('a mail through an SMTP server', {
    to: { type: 'string[]', words: true, describe: 'the recipients' },
    from: { type: 'string', describe: 'the sender address' },
    smtp: mapping('the SMTP server', {
      host: { type: 'string', describe: 'the server' },
      port: { type: 'number', min: 1, max: 65535, integer: true, describe: 'its port [587, or 465 with secure]' },
      secure: { type: 'boolean', describe: 'TLS from the start (port 465); otherwise STARTTLS when the server offers it [false]' },
      user: { type: 'string', describe: 'the user to log in as; omit for no login' },
      password_file: { type: 'string', describe: 'a 0600 file holding the password' },
      password: { type: 'string', describe: 'the password (prefer password_file or BATT_NOTIFY_EMAIL_SMTP_PASSWORD)' },
    }),
  }),
  healthchecks: mapping('healthchecks.io-style pings: url/start, url, url/<exit code>', {
    url: { type: 'string', describe: 'the ping URL, e.g. https://hc-ping.com/<uuid>' },
    failure: {
      type: 'enum',
      values: ['exit_code', 'fail'],
      describe: 'how a failed run is pinged: url/<exit code> (healthchecks.io keeps the code) or url/fail (servers that only know /fail) [exit_code]',
    },
  }),
});
