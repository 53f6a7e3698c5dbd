/**
 * Notifications (`notify:`, docs/notifications.md): a subscriber to a backup or verify run's
 * events that tells people how it ended, through each configured channel. It never fails or
 * holds up the run: each channel's sending is retried inside `notify.timeout` seconds (10 by
 * default) from the moment the run ends, and a channel that still fails is a warning in the log.
 */
import type { BattConfig } from '../config/load.js';
import { BattError } from '../errors/errors.js';
import type { RunEvents } from '../events/events.js';
import type { Logger } from '../log/logger.js';
import type { Channel } from './channel.js';
import { emailChannel } from './email.js';
import { healthchecksChannel } from './healthchecks.js';
import type { NotifyConfig } from '../config/notify-keys.js';
import { RunNotes, skippedNotice } from './message.js';
import { failureOf, withRetries, type Attempt } from './send.js';
import { slackChannel } from './slack.js';
import { webhookChannel } from './webhook.js';

export interface NotifyScope {
  config: BattConfig;
  host: string;
  log: Logger;
  /** Masked in every notice (passwords, the Slack URL, header tokens). */
  secrets: Set<string>;
}

const missing = (what: string): BattError => new BattError('CONFIG', `notify.${what} is missing`, { hint: 'docs/notifications.md shows what each channel needs' });

/** The configured channels; throws CONFIG, before the run, for one that lacks what it needs. */
export function channelsOf(config: NotifyConfig): Channel[] {
  const channels: Channel[] = [];
  if (config.slack) {
    if (!config.slack.webhook_url && !config.slack.webhook_url_file) throw missing('slack.webhook_url_file');
    channels.push(slackChannel(config.slack));
  }
  if (config.webhook) {
    if (!config.webhook.url) throw missing('webhook.url');
    channels.push(webhookChannel(config.webhook));
  }
  if (config.email) {
    for (const key of ['to', 'from', 'smtp'] as const) if (!config.email[key]) throw missing(`email.${key}`);
    if (!config.email.smtp!.host) throw missing('email.smtp.host');
    channels.push(emailChannel(config.email));
  }
  if (config.healthchecks) {
    if (!config.healthchecks.url) throw missing('healthchecks.url');
    channels.push(healthchecksChannel(config.healthchecks));
  }
  return channels;
}

/** Sends through a channel with retries inside `notify.timeout`; a channel that still fails is a warning. */
function sender(scope: NotifyScope): { send(channel: Channel, what: string, attempt: Attempt): void; pending: Promise<void>[] } {
  const timeoutMs = (scope.config.notify?.timeout ?? 10) * 1000;
  const log = scope.log.scoped('notify');
  const pending: Promise<void>[] = [];
  const send = (channel: Channel, what: string, attempt: Attempt): void => {
    const started = Date.now();
    pending.push(
      withRetries(attempt, started + timeoutMs).catch((error: unknown) => {
        log.warn(`${channel.name}: could not ${what} within ${((Date.now() - started) / 1000).toFixed(1)} s: ${failureOf(error)}; the run is not affected`);
      }),
    );
  };
  return { send, pending };
}

/** Tells that a backup run did not start (another run held the lock, exit 75), as a failure. */
export async function notifySkipped(scope: NotifyScope, why: string): Promise<void> {
  const config = scope.config.notify ?? {};
  const channels = channelsOf(config);
  const on = new Set(config.on ?? ['failure']);
  const notice = skippedNotice(scope.host, why, new Date().toISOString(), scope.secrets);
  const { send, pending } = sender(scope);
  for (const c of channels) if (c.everyRun || on.has('failure')) send(c, 'tell that the run was skipped', (signal, ms) => c.finished(notice, signal, ms));
  await Promise.all(pending);
}

/** Subscribes the configured channels to `events`; `close()` waits for what is still being sent. */
export function notifyEvents(events: RunEvents, scope: NotifyScope): { close(): Promise<void> } {
  const config = scope.config.notify ?? {};
  const channels = channelsOf(config);
  if (channels.length === 0) return { close: async () => {} };
  const on = new Set(config.on ?? ['failure']);
  const { send, pending } = sender(scope);
  const notes = new RunNotes();
  const unsubscribe = events.on((e) => {
    if (e.kind !== 'backup' && e.kind !== 'verify') return;
    if (e.type === 'run-started') {
      notes.start(e);
      if (e.kind === 'backup') for (const c of channels) if (c.started) send(c, 'ping the start', (signal) => c.started!(signal));
    } else if (e.type === 'item-finished') notes.item(e);
    else if (e.type === 'run-finished') {
      const notice = notes.notice(e, scope.host, scope.secrets);
      const what = notice.runId === undefined ? 'tell how the verify ended' : `tell how run ${notice.runId} ended`;
      for (const c of channels) if (c.everyRun || on.has(notice.event)) send(c, what, (signal, ms) => c.finished(notice, signal, ms));
    }
  });
  return {
    async close() {
      unsubscribe();
      await Promise.all(pending);
    },
  };
}
