/**
 * `batt doctor` for the postgresql service: psql, pg_dump, pg_restore (and pg_dumpall for roles)
 * present and no older than the server's major version, the connection with batt's credentials,
 * the databases, and that the user may read every table a dump reads (a superuser or a member of
 * pg_read_all_data may; roles and tablespaces need a superuser).
 */
import { BattError, DoctorChecks, doctorTargets, listed, toolVersion, which, type DoctorCheck } from '@batt/core/kit';
import { majorOf } from './args.js';
import { maintenanceDb, psql, session } from './session.js';
import type { PostgresqlContext } from './index.js';

const whoQuery = `SELECT current_setting('server_version_num'), current_setting('server_version'), current_user,
  (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
  EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pg_read_all_data' AND pg_has_role(current_user, oid, 'member'))`;

/** The first tables and sequences of the connected database the user may not read (pg_dump reads each). */
const unreadableQuery = `SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'S', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'
  AND NOT (has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')) ORDER BY 1 LIMIT 4`;

export async function doctor(ctx: PostgresqlContext): Promise<DoctorCheck[]> {
  const checks = new DoctorChecks();
  const configured = ctx.config.databases ?? [];
  const globals = (ctx.config.globals ?? configured.length === 0) === true;
  const tools = ['psql', 'pg_dump', 'pg_restore', ...(globals ? ['pg_dumpall'] : [])];
  await checks.run('client tools', async () => {
    const missing = tools.filter((tool) => !which(tool));
    if (missing.length) throw new BattError('TOOL_MISSING', `${missing.join(', ')} not installed or not on PATH`, { hint: 'install them: apt-get install postgresql-client' });
    return `${tools.join(', ')} (PostgreSQL ${/\(PostgreSQL\) (\S+)/.exec((await toolVersion('pg_dump')) ?? '')?.[1] ?? '?'})`;
  });
  if (!which('psql')) return checks.all;
  const s = session(ctx);
  try {
    let serverNum = '';
    let superuser = false;
    const connected = await checks.run('connection', async () => {
      const [[num, version, user, isSuper, readsAll]] = await psql(ctx, s, maintenanceDb(ctx.config), whoQuery);
      serverNum = num;
      superuser = isSuper === 't' || readsAll === 't';
      return `PostgreSQL ${version.split(' ')[0]} as ${user}${isSuper === 't' ? ' (superuser)' : readsAll === 't' ? ' (member of pg_read_all_data)' : ''}`;
    });
    if (!connected) return checks.all;
    await checks.run('tool version', async () => {
      const serverMajor = majorOf(serverNum);
      const found = await Promise.all(tools.filter((t) => t !== 'psql' && which(t)).map(async (t) => [t, majorOf((await toolVersion(t)) ?? '')] as const));
      const old = found.filter(([, major]) => major !== undefined && serverMajor !== undefined && major < serverMajor);
      if (old.length) {
        throw new BattError('TOOL_MISSING', `${old.map(([t, major]) => `${t} ${major}`).join(', ')} older than the PostgreSQL ${serverMajor} server`, {
          hint: `install postgresql-client-${serverMajor} (tools at least as new as the server) and put it first on PATH`,
        });
      }
      return `${found.map(([t, major]) => `${t} ${major ?? '?'}`).join(', ')}; server ${serverMajor ?? '?'}`;
    });
    let targets: string[] = [];
    const listedOk = await checks.run('targets', async () => {
      const all = (await psql(ctx, s, maintenanceDb(ctx.config), 'SELECT datname FROM pg_database WHERE NOT datistemplate AND datallowconn ORDER BY 1')).map((r) => r[0]);
      targets = doctorTargets('postgresql', all, configured, new Set(ctx.config.exclude ?? []));
      return `${targets.length} database(s): ${listed(targets)}${globals ? ', and roles and tablespaces' : ''}`;
    });
    if (!listedOk) return checks.all;
    await checks.run('privileges', async () => {
      if (superuser) return 'reads every database, table and role';
      if (globals) {
        throw new BattError('TOOL_FAILED', 'roles and tablespaces (pg_dumpall --globals-only) need a superuser: it reads pg_authid', {
          hint: 'back up as a superuser, or set postgresql.globals: false',
        });
      }
      const lacking: string[] = [];
      for (const db of targets) {
        const unreadable = await psql(ctx, s, db, unreadableQuery).then(
          (rows) => rows.map((r) => r[0]),
          (error: Error) => [`(cannot connect: ${error.message})`],
        );
        if (unreadable.length) lacking.push(`${db}: ${unreadable.join(', ')}`);
      }
      if (lacking.length) {
        throw new BattError('TOOL_FAILED', `the user may not read ${lacking.slice(0, 3).join('; ')}`, {
          hint: 'GRANT pg_read_all_data TO the backup user (PostgreSQL 14+), or GRANT USAGE on the schemas and SELECT on their tables and sequences',
        });
      }
      return `may read every table and sequence of the ${targets.length} database(s)`;
    });
    return checks.all;
  } finally {
    s.dispose();
  }
}
