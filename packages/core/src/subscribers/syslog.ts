/**
 * `log.syslog: true` (or `--syslog`): each backup run's summary, one line, to syslog through
 * util-linux's logger(1): into the journal on a systemd host, /var/log/syslog elsewhere. Tagged
 * `batt`, at priority `user.info` for an ok run and `user.err` otherwise. Like every subscriber it
 * never fails the run: a missing or failing logger is a warning in batt's own log.
 */
import type { BattConfig } from '../config/load.js';
import { describeError } from '../errors/errors.js';
import type { RunEvents } from '../events/events.js';
import { runTool } from '../exec/exec.js';
import type { Logger } from '../log/logger.js';
import { redact } from '../log/logger.js';
import { printable } from '../text/printable.js';

export function syslogEvents(events: RunEvents, scope: { config: BattConfig; log: Logger; secrets: Set<string> }): { close(): Promise<void> } {
  if (!scope.config.log?.syslog) return { close: async () => {} };
  const failures: string[] = [];
  let sent: Promise<void> | undefined;
  const off = events.on((e) => {
    if (e.kind !== 'backup') return;
    if (e.type === 'item-finished' && e.status !== 'ok') failures.push(`${e.service} ${e.target}: ${e.error ?? e.status}`);
    if (e.type !== 'run-finished') return;
    const why = [...failures, ...(e.error ? [e.error] : [])];
    const line = printable(
      redact(`run ${e.runId} ${e.status}: ${e.ok} ok, ${e.failed} failed${why.length ? `; ${why.join('; ')}` : ''} (batt show ${e.runId})`, scope.secrets),
    ).slice(0, 1800);
    const priority = e.status === 'ok' ? 'user.info' : 'user.err';
    sent = runTool('logger', ['-t', 'batt', '-p', priority, '--', line], { debianPackage: 'bsdutils' }).then(
      () => undefined,
      (error: unknown) => scope.log.warn(`could not send the run's summary to syslog: ${describeError(error)}`),
    );
  });
  return {
    async close() {
      off();
      await sent;
    },
  };
}
