/**
 * `notify.slack`: a Slack incoming webhook gets the notice's text. The URL is a secret (anyone who
 * has it can post to the channel): it comes from a 0600 file (`webhook_url_file`), the variable
 * BATT_NOTIFY_SLACK_WEBHOOK_URL, or `webhook_url` in a 0600 config file, and is masked everywhere.
 */
import type { Channel } from './channel.js';
import type { NotifyConfig } from '../config/notify-keys.js';
import { httpRequest, readSecretFile } from './send.js';

/** Slack's own escapes: its markup reads `&`, `<` and `>`. */
export function slackText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function slackChannel(config: NonNullable<NotifyConfig['slack']>): Channel {
  return {
    name: 'slack',
    async finished(notice, signal) {
      const url = config.webhook_url ?? readSecretFile('notify.slack.webhook_url_file', config.webhook_url_file!);
      const body = JSON.stringify({ text: slackText(notice.text) });
      await httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }, signal);
    },
  };
}
