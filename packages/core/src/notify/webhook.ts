/**
 * `notify.webhook`: a POST of the notice as JSON (message.ts's Notice, documented in
 * docs/notifications.md) to `url`, with the configured `headers` ("Name: value") added.
 */
import { BattError } from '../errors/errors.js';
import type { Channel } from './channel.js';
import type { NotifyConfig } from '../config/notify-keys.js';
import { httpRequest } from './send.js';

/** `headers` ("Name: value" lines) as a mapping; throws CONFIG for a line without a name. */
export function headersOf(lines: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):\s*(.*)$/.exec(line);
    if (!m) throw new BattError('CONFIG', `notify.webhook.headers: "${line.split(':')[0]}" is not a header line`, { hint: 'write each header as "Name: value"' });
    headers[m[1].toLowerCase()] = m[2].trim();
  }
  return headers;
}

export function webhookChannel(config: NonNullable<NotifyConfig['webhook']>): Channel {
  const headers = { 'user-agent': 'batt', ...headersOf(config.headers ?? []), 'content-type': 'application/json' };
  return {
    name: 'webhook',
    async finished(notice, signal) {
      await httpRequest(config.url!, { method: 'POST', headers, body: JSON.stringify(notice) }, signal);
    },
  };
}
