/**
 * `batt doctor` for the file service: GNU tar present (batt relies on its options and exit
 * codes), and every configured path there and readable by batt's user.
 */
import { accessSync, constants, lstatSync } from 'node:fs';
import { BattError, DoctorChecks, toolVersion, which, type DoctorCheck } from '@batt/core/kit';
import { listTargets } from './backup.js';
import type { FileContext } from './index.js';

/** Why `path` cannot be read, or undefined. */
function unreadable(path: string): string | undefined {
  try {
    const st = lstatSync(path);
    accessSync(path, st.isDirectory() ? constants.R_OK | constants.X_OK : st.isSymbolicLink() ? constants.F_OK : constants.R_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${path} does not exist` : `${path} cannot be read (${code})`;
  }
}

export async function doctor(ctx: FileContext): Promise<DoctorCheck[]> {
  const checks = new DoctorChecks();
  await checks.run('client tools', async () => {
    if (!which('tar')) throw new BattError('TOOL_MISSING', 'tar is not installed or not on PATH', { hint: 'install it: apt-get install tar' });
    const version = (await toolVersion('tar')) ?? '';
    if (!/GNU tar/.test(version))
      throw new BattError('TOOL_MISSING', `tar is not GNU tar (${version || 'no --version'})`, { hint: 'install GNU tar (apt-get install tar) first on PATH' });
    return version;
  });
  await checks.run('targets', async () => {
    const paths = await listTargets(ctx, []);
    const problems = paths.map(unreadable).filter((p): p is string => p !== undefined);
    if (problems.length) throw new BattError('NOT_FOUND', problems.slice(0, 3).join('; '), { hint: 'check file.paths, and that batt runs as a user who may read them' });
    return `${paths.length} path(s), each readable: ${paths.slice(0, 5).join(', ')}${paths.length > 5 ? ', …' : ''}`;
  });
  return checks.all;
}
