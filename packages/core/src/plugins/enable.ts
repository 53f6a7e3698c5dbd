/**
 * `batt enable` / `batt disable`: the sites-enabled logic of the original batt. Enabling makes
 * scripts-enabled/backup-<name> a relative symlink to ../scripts-available/backup-<name>.
 * All names are checked before anything changes, and repeating either is harmless.
 */
import { lstatSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fromSystemError } from '../errors/errors.js';
import type { HomeLayout } from '../home/home.js';
import { findService, type Service } from './discovery.js';

export interface ToggleResult {
  name: string;
  changed: boolean;
  message: string;
}

const linkExists = (path: string): boolean => {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
};

export function enableServices(home: HomeLayout, services: readonly Service[], names: readonly string[]): ToggleResult[] {
  const chosen = names.map((n) => findService(services, n));
  return chosen.map((service) => {
    const entry = `backup-${service.name}`;
    const link = join(home.enabled, entry);
    if (service.enabled) return { name: service.name, changed: false, message: `${service.name} is already enabled` };
    try {
      if (linkExists(link)) rmSync(link); // a dangling link from an earlier install
      symlinkSync(join('..', 'scripts-available', entry), link);
    } catch (error) {
      throw fromSystemError(error, `cannot enable ${service.name}`);
    }
    return { name: service.name, changed: true, message: `enabled ${service.name} (${service.kind})` };
  });
}

export function disableServices(home: HomeLayout, services: readonly Service[], names: readonly string[]): ToggleResult[] {
  const chosen = names.map((n) => findService(services, n));
  return chosen.map((service) => {
    const link = join(home.enabled, `backup-${service.name}`);
    if (!linkExists(link)) return { name: service.name, changed: false, message: `${service.name} was not enabled` };
    try {
      rmSync(link);
    } catch (error) {
      throw fromSystemError(error, `cannot disable ${service.name}`);
    }
    return { name: service.name, changed: true, message: `disabled ${service.name}` };
  });
}
