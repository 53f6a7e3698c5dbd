/**
 * What follows a backup or verify run subscribes to its events here, and nowhere else: its log
 * (log-subscriber.ts), the notifications (notify/), the metrics file (metrics/) and syslog (syslog.ts). `close()`
 * waits for the notifications still being sent, each bounded by `notify.timeout`.
 */
import { hostname } from 'node:os';
import type { CatalogDb } from '../catalog/db.js';
import type { BattConfig } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import { metricsEvents } from '../metrics/index.js';
import { notifyEvents } from '../notify/index.js';
import type { RunEvents } from '../events/events.js';
import { logEvents } from '../events/log-subscriber.js';
import { syslogEvents } from './syslog.js';

export interface RunScope {
  db: CatalogDb;
  config: BattConfig;
  log: Logger;
  /** Masked in notifications and metric labels, as in the log. */
  secrets: Set<string>;
  /** The host the notifications name [this one]. */
  host?: string;
}

/** Subscribes the log, the notifications and the metrics file; throws CONFIG for an incomplete `notify:` before anything is subscribed. */
export function subscribeRun(events: RunEvents, scope: RunScope): { close(): Promise<void> } {
  const notify = notifyEvents(events, { ...scope, host: scope.host ?? hostname() });
  const unlog = logEvents(events, scope.log);
  const unmetrics = metricsEvents(events, scope);
  const syslog = syslogEvents(events, scope);
  return {
    async close() {
      unmetrics();
      unlog();
      await Promise.all([notify.close(), syslog.close()]);
    },
  };
}
