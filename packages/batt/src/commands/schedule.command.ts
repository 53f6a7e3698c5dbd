/** `batt schedule --print [--systemd|--cron]`: when batt runs, as a systemd timer or a cron line. */
import { command, flag, outputOf } from '../options.js';

export const schedule = command(
  'schedule',
  'print a systemd timer and service, and a cron line, that run batt at the time `schedule:` names',
  (y) =>
    y
      .usage(
        `batt schedule --print [--systemd|--cron]

Prints a systemd service and timer pair (OnCalendar= from the configuration's schedule:, 03:00
when unset; RandomizedDelaySec=, Persistent=true, so a run missed while the host was off
happens at the next boot) and a line for /etc/cron.d/, each running this batt with this
--home and --config. Install them as docs/scheduling.md shows. A run that finds another still
going exits 75 at once, or waits up to lock_wait seconds for it.
Docs: docs/scheduling.md`,
      )
      .option('print', flag('print the units and the cron line (the only action there is)'))
      .option('systemd', { type: 'boolean', describe: 'only the systemd service and timer' })
      .option('cron', { type: 'boolean', describe: 'only the cron line' })
      .option('unit', { type: 'string', default: 'batt', describe: 'name of the units (NAME.service, NAME.timer) and the cron file' })
      .conflicts('systemd', 'cron')
      .example('batt schedule --print --systemd', 'the service and timer for /etc/systemd/system/')
      .example('batt schedule --print --cron', 'the line for /etc/cron.d/batt'),
  async (a, { app }) => {
    const { scheduleCommand } = await import('./schedule.js');
    return scheduleCommand(app, { print: a.print, only: a.systemd ? 'systemd' : a.cron ? 'cron' : undefined, unit: a.unit, ...outputOf(a) });
  },
);
