/**
 * `batt doctor` for the mysql service: the client and dump tools, the connection with batt's
 * credentials, the dump tool against the server's flavour and version, the databases, and the
 * privileges each dump takes (PROCESS, LOCK TABLES only where they are needed).
 */
import { BattError, DoctorChecks, doctorTargets, listed, toolVersion, which, type DoctorCheck } from '@batt/core/kit';
import { skipped } from './args.js';
import { grantsQuery, granteeOf, lockedSchemas, lockedSchemasQuery, missingPrivileges, parseVersion, toolMisfit, versionName } from './checks.js';
import { clientTool, dumpTool, optionFile, query } from './session.js';
import type { MysqlContext } from './index.js';

export async function doctor(ctx: MysqlContext): Promise<DoctorCheck[]> {
  const checks = new DoctorChecks();
  const [client, dump] = [clientTool(), dumpTool()];
  await checks.run('client tools', async () => {
    const missing = [client, dump].filter((tool) => !which(tool));
    if (missing.length) {
      throw new BattError('TOOL_MISSING', `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not installed or not on PATH`, {
        hint: "install it: apt-get install mariadb-client (for a MySQL server, MySQL's client of its version)",
      });
    }
    return `${client}, ${dump} (${versionName(await toolVersion(dump))})`;
  });
  if (!which(client)) return checks.all;
  const file = optionFile(ctx);
  try {
    let server: string | undefined;
    let user = '';
    const connected = await checks.run('connection', async () => {
      [[server, user]] = await query(ctx, file.path, 'SELECT VERSION(), CURRENT_USER()');
      return `${versionName(server)} as ${user}`;
    });
    if (!connected) return checks.all;
    if (which(dump)) {
      await checks.run('tool version', async () => {
        const version = await toolVersion(dump);
        const misfit = toolMisfit(dump, version, server);
        if (misfit)
          throw new BattError('TOOL_MISSING', misfit, { hint: "install the dump tool of the server's flavour and version or newer (mariadb-client for MariaDB), first on PATH" });
        return `${dump} ${versionName(version)} fits the ${versionName(server)} server`;
      });
    }
    let targets: string[] = [];
    const listedOk = await checks.run('targets', async () => {
      const all = (await query(ctx, file.path, 'SHOW DATABASES')).map((row) => row[0]);
      targets = doctorTargets('mysql', all, ctx.config.databases ?? [], skipped(ctx.config));
      if (targets.length === 0) throw new BattError('NOT_FOUND', 'the mysql server has no databases to back up', { hint: 'create one, or name system schemas with --mysql-db' });
      return `${targets.length} database(s): ${listed(targets)}`;
    });
    if (!listedOk) return checks.all;
    await checks.run('privileges', async () => {
      const [grants, engines] = await Promise.all([query(ctx, file.path, grantsQuery(granteeOf(user))), query(ctx, file.path, lockedSchemasQuery)]);
      const locked = lockedSchemas(engines);
      const lock = ctx.config.non_transactional !== 'fail';
      const lacking = targets.flatMap((db) => {
        const missing = missingPrivileges(grants, db, { lockTables: lock && locked.has(db), server: parseVersion(server ?? '') });
        return missing.length ? [`${missing.join(', ')} on ${db}`] : [];
      });
      if (lacking.length) {
        throw new BattError('TOOL_FAILED', `${user} lacks ${lacking.slice(0, 3).join('; ')}${lacking.length > 3 ? `; and on ${lacking.length - 3} more` : ''}`, {
          hint: `GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES ON *.* TO ${granteeOf(user)} (privileges through roles are not seen here)`,
        });
      }
      const withLocks = targets.filter((db) => locked.has(db));
      if (withLocks.length && !lock) {
        throw new BattError('TOOL_FAILED', `${listed(withLocks)} hold non-transactional tables and mysql.non_transactional is fail: their backups will fail`, {
          hint: 'set mysql.non_transactional: lock, or convert the tables with ALTER TABLE … ENGINE=InnoDB',
        });
      }
      const how = withLocks.length ? `; ${listed(withLocks)} under LOCK TABLES (non-transactional tables)` : '';
      return `enough for a consistent dump of each database (one transaction each${how})`;
    });
    return checks.all;
  } finally {
    file.dispose();
  }
}
