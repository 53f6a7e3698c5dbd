/** `batt doctor [services..]`: is this host ready for the next backup. */
import { command, listOf, outputOf } from '../options.js';

export const doctor = command(
  'doctor [services..]',
  'check what the next backup needs: tools and versions, credentials, privileges, destination, free space, storages, catalog',
  (y) =>
    y
      .usage(
        `batt doctor [services..]

Checks, without changing anything, what a backup of the named services (default: the enabled
ones) needs, one line per check: the configuration; each service's client tools, present and
new enough for its server, the credentials, the targets and the privileges a consistent dump
takes; each destination (owned by batt's user, not writable by others, writable) and its free
space against the last backup's size; every storage reachable with its credentials; the
encryption recipients; the catalog (PRAGMA quick_check); the scripts in scripts-enabled/.
A failed check says how to fix it. Exit 1 when any check fails. No secret is ever printed.
Docs: docs/doctor.md`,
      )
      .positional('services', { type: 'string', array: true, describe: 'services to check (default: the enabled ones)' })
      .example('batt doctor', 'check the enabled services and everything they use')
      .example('batt doctor postgresql --json', 'one service, as a JSON array of {service, check, ok, detail, fix}'),
  async (a, { app }) => {
    const { doctorCommand } = await import('./doctor.js');
    return doctorCommand(app, { services: listOf(a.services), ...outputOf(a) });
  },
);
