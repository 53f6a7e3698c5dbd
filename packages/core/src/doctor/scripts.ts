/**
 * The doctor's checks of scripts-enabled/: every entry must lead to an executable file that only
 * batt's user or root can change. Discovery passes over an entry that is neither (a link left
 * dangling, a script without its x bit), so without this check such a service is silently not
 * backed up.
 */
import { accessSync, constants, existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BattError } from '../errors/errors.js';
import type { HomeLayout } from '../home/home.js';
import { untrusted } from '../home/trust.js';
import type { DoctorCheck } from '../plugins/types.js';
import { failedCheck } from './checks.js';

/** Why the script at `path` would not run, as a BattError with the fix; its real path when it would. */
function runnable(path: string, shown: string): string {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new BattError('NOT_FOUND', `${shown} leads nowhere: the script it links to is gone`, {
      hint: `batt disable ${shown.replace(/^.*backup-/, '')}, or put the script back`,
    });
  }
  if (!statSync(real).isFile()) throw new BattError('USAGE', `${shown} is not a file`, { hint: `remove ${path}` });
  try {
    accessSync(real, constants.X_OK);
  } catch {
    throw new BattError('USAGE', `${shown} is not executable, so batt skips it`, { hint: `chmod +x ${real}` });
  }
  const why = untrusted(path);
  if (why)
    throw new BattError('UNTRUSTED', `${shown}: ${why}, so batt refuses to run it`, { hint: `chown root and chmod go-w ${real} and the folders above it (docs/security.md)` });
  return real;
}

/** One line for scripts-enabled/ when every entry would run; one failed line for each that would not. */
export function scriptChecks(home: HomeLayout): DoctorCheck[] {
  const names = existsSync(home.enabled) ? readdirSync(home.enabled).filter((n) => n.startsWith('backup-')) : [];
  const failed: DoctorCheck[] = [];
  for (const name of names) {
    try {
      runnable(join(home.enabled, name), `scripts-enabled/${name}`);
    } catch (error) {
      failed.push(failedCheck('enabled scripts', error));
    }
  }
  if (failed.length) return failed;
  return [{ name: 'enabled scripts', ok: true, detail: names.length ? `${names.length} in ${home.enabled}, each executable and trusted` : `none in ${home.enabled}` }];
}

/** A drop-in service's own script. */
export function serviceScriptCheck(path: string): DoctorCheck {
  try {
    return { name: 'script', ok: true, detail: `${runnable(path, path)}: executable and trusted` };
  } catch (error) {
    return failedCheck('script', error);
  }
}
