/** `batt list`, `batt enable` and `batt disable`: the services and which of them run by default. */
import type { Command } from '../options.js';
import type { ListWhich } from './services.js';

export const list: Command = (cli, { app, done }) =>
  cli.command(
    'list [which]',
    'list services and where each comes from',
    (y) => y.positional('which', { choices: ['all', 'available', 'enabled', 'disabled'] as const, default: 'all' as const }),
    async (a) => {
      const { listCommand } = await import('./services.js');
      done(listCommand(app, a.which as ListWhich, a.json));
    },
  );

export const enable: Command = (cli, { app, done }) =>
  cli.command(
    'enable <services..>',
    'enable services for `batt` without arguments (symlink into scripts-enabled/)',
    (y) => y.positional('services', { type: 'string', array: true, demandOption: true }),
    async (a) => {
      const { toggleCommand } = await import('./services.js');
      done(toggleCommand(app, 'enable', a.services as string[], a.json));
    },
  );

export const disable: Command = (cli, { app, done }) =>
  cli.command(
    'disable <services..>',
    'disable services (remove their scripts-enabled/ link)',
    (y) => y.positional('services', { type: 'string', array: true, demandOption: true }),
    async (a) => {
      const { toggleCommand } = await import('./services.js');
      done(toggleCommand(app, 'disable', a.services as string[], a.json));
    },
  );
