/**
 * The secret-leak guard: no child batt starts may carry a secret batt knows on its command line,
 * where every user of the machine reads it (`ps`, /proc/<pid>/cmdline) and where a logged command
 * would show it. Plugins put passwords in 0600 files or the environment; this is the net under
 * that rule for when one forgets. exec.ts calls it before every spawn, so it holds for built-in
 * plugins, the core's own tools, hooks and drop-in scripts alike.
 *
 * The secrets are the ones the log and the catalog mask (config/secrets.ts collectSecrets): the
 * configuration's passwords, tokens and keys, their password files, URI passwords, and BATT_*
 * secret variables. They are known once per process (one command, one configuration), so the CLI
 * sets them when it loads the configuration: a plugin that calls the kit's runTool directly is
 * guarded as much as one using ctx.exec.
 */
import { BattError } from '../errors/errors.js';

/**
 * Secrets shorter than this are not looked for. Masking a short secret in a log costs nothing,
 * but refusing a command fails a backup, and a short value turns up by chance in ordinary argv:
 * a password `backup` is in /opt/backup/…, `2026` in every dated path, `root` in a user name.
 * Eight characters is the least most password rules accept (NIST SP 800-63B, MySQL's
 * validate_password); a shorter password is weak on its own, the log still masks it.
 */
export const minGuardedLength = 8;

let known: string[] = [];

/** Sets the secrets this process guards command lines against (replacing any set before). */
export function guardSecrets(secrets: Iterable<string>): void {
  known = [...new Set(secrets)].filter((s) => s.length >= minGuardedLength);
}

/**
 * Whether the command line `args` would make holds one of `secrets`: inside any argument
 * (`--password=…`, `mysql://u:…@h`, `-p…`), across arguments as the line is shown (a secret with
 * a space), or percent-encoded as a URI carries it. Secrets shorter than minGuardedLength are ignored.
 */
export function leaksSecret(args: readonly string[], secrets: readonly string[]): boolean {
  const line = args.join(' ');
  return secrets.some((s) => s.length >= minGuardedLength && (line.includes(s) || line.includes(encodeURIComponent(s))));
}

/**
 * Throws, before anything starts, when `file`'s arguments hold a secret this process knows. The
 * message names the tool and the service, never the secret. `file` itself is not looked at: it
 * is found on PATH, never made from a secret (and a password `postgres` would refuse every
 * /usr/lib/postgresql/…/pg_dump).
 */
export function refuseSecretArgs(file: string, args: readonly string[], service?: string): void {
  if (!leaksSecret(args, known)) return;
  const who = service ? `${service}: ` : '';
  throw new BattError(
    'SECRET_ON_COMMAND_LINE',
    `${who}refusing to start ${file}: a password or key batt knows would be on its command line, where every user of this machine can read it`,
    {
      hint: `nothing was started; this is a bug in ${service ? `the ${service} plugin or script` : 'a plugin, a script or a hook'}: please report it. If the secret is also a name batt must pass (a user, a database, part of a path), change the secret`,
    },
  );
}
