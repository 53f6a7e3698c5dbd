/**
 * `batt doctor` for the redis service: redis-cli and redis-check-rdb present, each server answers
 * with batt's credentials, and the tools are no older than the server (an older redis-check-rdb
 * cannot read a newer server's RDB format). Whether the user may SYNC (what `redis-cli --rdb`
 * needs) is not asked: only a snapshot would tell, and the doctor takes none.
 */
import { BattError, DoctorChecks, toolVersion, which, type DoctorCheck } from '@batt/core/kit';
import { infoField } from './args.js';
import { listTargets } from './backup.js';
import { cli, connectionOf } from './session.js';
import type { RedisContext } from './index.js';

const minor = (version: string | undefined): [number, number] | undefined => {
  const m = /(\d+)\.(\d+)/.exec(version ?? '');
  return m ? [Number(m[1]), Number(m[2])] : undefined;
};

export async function doctor(ctx: RedisContext): Promise<DoctorCheck[]> {
  const checks = new DoctorChecks();
  const tools = await checks.run('client tools', async () => {
    const missing = ['redis-cli', 'redis-check-rdb'].filter((tool) => !which(tool));
    if (missing.length) throw new BattError('TOOL_MISSING', `${missing.join(' and ')} not installed or not on PATH`, { hint: 'install them: apt-get install redis-tools' });
    return `redis-cli, redis-check-rdb (${(await toolVersion('redis-cli')) ?? 'version unknown'})`;
  });
  if (!which('redis-cli')) return checks.all;
  const tool = minor(await toolVersion('redis-cli'));
  for (const target of await listTargets(ctx, [])) {
    let version: string | undefined;
    const connected = await checks.run('connection', async () => {
      version = infoField(await cli(ctx, connectionOf(ctx.config, target), 'INFO', 'server'), 'redis_version');
      return `${target}: Redis ${version ?? '(version unknown)'}`;
    });
    if (!connected || !tools) continue;
    await checks.run('tool version', () => {
      const server = minor(version);
      if (tool && server && (tool[0] < server[0] || (tool[0] === server[0] && tool[1] < server[1]))) {
        throw new BattError(
          'TOOL_MISSING',
          `${target}: redis-tools ${tool.join('.')} (redis-cli, redis-check-rdb) is older than the Redis ${server.join('.')} server and may not read its snapshots`,
          {
            hint: "install redis-tools of the server's version or newer",
          },
        );
      }
      return `${target}: redis-tools ${tool?.join('.') ?? '?'} for Redis ${version ?? '?'}`;
    });
  }
  return checks.all;
}
