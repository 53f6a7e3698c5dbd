/**
 * `notify.healthchecks`: healthchecks.io-style pings for every backup run, whatever `notify.on`
 * says: GET url/start when it starts, then url when it exits 0, or url/<exit code> (1 failed,
 * 3 suspect, 75 skipped, 130 interrupted), which healthchecks.io counts as a failure; or url/fail
 * with `failure: fail`, for servers that know only that. Verify runs do not ping:
 * the check is the backup's.
 */
import type { Channel } from './channel.js';
import type { NotifyConfig } from '../config/notify-keys.js';
import { httpRequest } from './send.js';

/** The URL pinged for a run that starts (`start`) or exits with `code`. */
export function pingUrl(url: string, what: 'start' | number, failure: 'exit_code' | 'fail' = 'exit_code'): string {
  const base = url.replace(/\/+$/, '');
  return what === 0 ? base : `${base}/${typeof what === 'number' && failure === 'fail' ? 'fail' : what}`;
}

export function healthchecksChannel(config: NonNullable<NotifyConfig['healthchecks']>): Channel {
  const ping = (what: 'start' | number, signal: AbortSignal): Promise<void> => httpRequest(pingUrl(config.url!, what, config.failure), { method: 'GET' }, signal);
  return {
    name: 'healthchecks',
    everyRun: true,
    started: (signal) => ping('start', signal),
    async finished(notice, signal) {
      if (notice.kind === 'backup') await ping(notice.exitCode, signal);
    },
  };
}
