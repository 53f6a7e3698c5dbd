// What test/bench/mysql.mjs and test/bench/scale.mjs share on their private MariaDB: a client
// user with its option file, and matiri's serial shell loop (seed 000: `mysqldump
// --single-transaction db | gzip > f; sha256sum f` per database, one after the other).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Creates the user `bench` on `db` (test/lib/servers.ts) and writes its client.cnf under `work`.
 * Returns the option file and the environment batt reads the same credentials from.
 */
export async function benchClient(db, work) {
  await db.sql(`CREATE USER 'bench'@'localhost' IDENTIFIED BY 'bench-pw'; GRANT ALL ON *.* TO 'bench'@'localhost'`);
  const cnf = join(work, 'client.cnf');
  execFileSync('sh', ['-c', `printf '[client]\\nuser=bench\\npassword=bench-pw\\nsocket=${db.socket}\\n' > ${cnf}; chmod 600 ${cnf}`]);
  const env = { ...process.env, BATT_MYSQL_SOCKET: db.socket, BATT_MYSQL_USER: 'bench', BATT_MYSQL_PASSWORD: 'bench-pw' };
  return { cnf, env };
}

/** matiri's loop over `dbs` as one bash command line, writing into the folder in $O. */
export const matiriLoop = (cnf, dbs) =>
  dbs.map((d) => `mysqldump --defaults-file=${cnf} --single-transaction ${d} | gzip > "$O/${d}.sql.gz"; sha256sum "$O/${d}.sql.gz" > /dev/null`).join('; ');

/** Whether one of `pid`'s child processes has `marker` in its command line. */
export function childRuns(pid, marker) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .filter(Boolean)
      .some((child) => {
        try {
          return readFileSync(`/proc/${child}/cmdline`, 'utf8').includes(marker);
        } catch {
          return false;
        }
      });
  } catch {
    return false;
  }
}
