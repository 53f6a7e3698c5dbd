/** `batt list`, `batt enable` and `batt disable`: the services and which of them run by default. */
import { command } from '../options.js';
import type { ListWhich } from './services.js';

export const list = command(
  'list [which]',
  'list services and where each comes from',
  (y) => y.positional('which', { choices: ['all', 'available', 'enabled', 'disabled'] as const, default: 'all' as const }),
  async (a, { app }) => {
    const { listCommand } = await import('./services.js');
    return listCommand(app, a.which as ListWhich, a.json);
  },
);

/** `batt enable` or `batt disable`: the same command, each linking or unlinking. */
function toggle(action: 'enable' | 'disable', describe: string) {
  return command(
    `${action} <services..>`,
    describe,
    (y) => y.positional('services', { type: 'string', array: true, demandOption: true }),
    async (a, { app }) => {
      const { toggleCommand } = await import('./services.js');
      return toggleCommand(app, action, a.services as string[], a.json);
    },
  );
}

export const enable = toggle('enable', 'enable services for `batt` without arguments (symlink into scripts-enabled/)');
export const disable = toggle('disable', 'disable services (remove their scripts-enabled/ link)');
