/**
 * `batt schedule --print`: the systemd units and the cron line (core/schedule) for this batt,
 * home and configuration. It prints only: installing them is the administrator's step
 * (docs/scheduling.md), so nothing here needs root.
 */
import { resolve } from 'node:path';
import { userInfo } from 'node:os';
import { BattError, calendarOf, cronLine, describeError, systemdUnits, type ScheduleRequest } from '@batt/core';
import type { App } from '../app.js';
import { loadAppConfig } from './common.js';
import { printJson } from '../output.js';

export interface ScheduleArgs {
  print: boolean;
  only: 'systemd' | 'cron' | undefined;
  unit: string;
  config?: string;
  json: boolean;
  quiet: boolean;
}

export async function scheduleCommand(app: App, args: ScheduleArgs): Promise<number> {
  if (!args.print) {
    throw new BattError('USAGE', 'batt schedule only prints the units and the cron line: add --print', {
      hint: 'batt schedule --print --systemd (or --cron); docs/scheduling.md shows where they go',
    });
  }
  if (!/^[A-Za-z0-9_.@-]+$/.test(args.unit)) throw new BattError('USAGE', `--unit ${JSON.stringify(args.unit)} is no unit name`, { hint: 'use letters, digits, - _ . and @' });
  const config = await loadAppConfig(app, args);
  // This batt, as it was started: node and its script, absolute, so the timer runs the same one.
  const request: ScheduleRequest = {
    command: [process.execPath, resolve(process.argv[1]), '--home', app.home.root, ...(args.config ? ['--config', resolve(args.config)] : [])],
    schedule: config.schedule,
    unit: args.unit,
    user: process.geteuid?.() === 0 ? undefined : userInfo().username,
    home: app.home.root,
  };
  const units = args.only === 'cron' ? undefined : systemdUnits(request);
  let cron: string | undefined;
  try {
    cron = args.only === 'systemd' ? undefined : cronLine(request);
  } catch (error) {
    if (args.only === 'cron') throw error;
    // Both were asked for: the units still print, and the cron line says why it is missing.
    cron = `# no cron line: ${describeError(error)}\n`;
  }
  if (args.json) printJson({ unit: args.unit, calendar: calendarOf(config.schedule), service: units?.service, timer: units?.timer, cron });
  else process.stdout.write([units?.service, units?.timer, cron].filter(Boolean).join('\n'));
  return 0;
}
