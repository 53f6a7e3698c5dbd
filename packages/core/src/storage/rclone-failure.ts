/**
 * What a failed rclone command means, as one BattError a user can act on: the remote is not
 * configured, cannot be reached, refused the credentials, or the path is missing. rclone's own
 * words are kept short (its last line, without timestamps) and stripped of anything secret:
 * URLs' user:password, and the values of the secret RCLONE_* variables batt passed it.
 */
import { BattError } from '../errors/errors.js';
import type { ToolResult } from '../exec/exec.js';
import { stderrText, toolFailure } from '../exec/exec.js';
import { redact } from '../log/logger.js';

/** rclone's exit codes for "directory not found" and "file not found". */
export const notFoundExit = new Set([3, 4]);

/** Names of rclone variables that hold a secret (RCLONE_CONFIG_X_PASS, …_SECRET_ACCESS_KEY, …_KEY, …_TOKEN, …_SAS_URL). */
const secretVariable = /(pass|password|secret|key|token|auth|credentials?|sas_url|private_key\w*|bearer\w*)$/i;

/** The values in `env` that must never be shown. */
export function secretsOf(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(env)
    .filter(([name, value]) => secretVariable.test(name) && value)
    .map(([, value]) => value as string);
}

/** rclone's stderr, short and safe: its last meaningful line, no timestamps, no credentials. */
export function rcloneMessage(result: ToolResult, secrets: readonly string[]): string {
  const lines = stderrText(result)
    .split('\n')
    .map((line) => line.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /, '').trim())
    .filter((line) => line && !/^(Usage:|Flags:|Use "rclone)/.test(line));
  const last = lines.filter((line) => /^(Failed to|Fatal error|Error:)/.test(line)).pop() ?? lines.pop() ?? '';
  const clean = redact(last, secrets)
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1***@')
    .replace(/([?&](?:sig|signature|token|key|x-amz-signature|x-goog-signature)=)[^&\s"]+/gi, '$1***');
  return clean.length > 300 ? `${clean.slice(0, 300)}…` : clean;
}

/** The remote's name as rclone knows it (`myremote` of `myremote:bucket/path`), or the whole remote. */
export function remoteName(remote: string): string {
  const m = /^([^:/]+):/.exec(remote);
  return m ? m[1] : remote;
}

/** The BattError for a failed rclone command on `remote`, doing `what` ("storing x", "checking"). */
export function rcloneFailure(remote: string, what: string, result: ToolResult, secrets: readonly string[]): BattError {
  if (result.code === 'ENOENT' || result.isCanceled) return toolFailure('rclone', result, 'rclone');
  const said = rcloneMessage(result, secrets);
  const name = remoteName(remote);
  const why = said ? `: ${said}` : result.signal ? `: rclone was killed by ${result.signal}` : `: rclone exited with code ${result.exitCode}`;
  const cause = { exitCode: result.exitCode, signal: result.signal }; // not the stderr: it may hold what was redacted
  const variable = `RCLONE_CONFIG_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_TYPE`;
  if (/didn't find section in config file|config file .* not found|unknown backend|couldn't find backend/i.test(said)) {
    return new BattError('CONFIG', `the rclone remote "${name}" is not configured (${what} ${remote})`, {
      hint: `define it with \`rclone config\` (or ${variable} and the other RCLONE_CONFIG_ variables), or fix the remote's name`,
      cause,
    });
  }
  if (/connection refused|no such host|i\/o timeout|network is unreachable|no route to host|connection reset|timeout awaiting|context deadline exceeded|tls:|x509:/i.test(said)) {
    return new BattError('IO', `cannot reach the rclone remote ${remote} (${what})${why}`, {
      hint: `check that its server is up and that the address in the remote "${name}" is right`,
      cause,
    });
  }
  if (
    /\b401\b|\b403\b|unauthori[sz]ed|forbidden|access ?denied|unable to authenticate|authentication|permission denied|invalid ?access ?key|signaturedoesnotmatch|invalid_grant|invalid credentials/i.test(
      said,
    )
  ) {
    return new BattError('IO', `the rclone remote ${remote} refused batt (${what})${why}`, {
      hint: `check the credentials and permissions of the remote "${name}" (\`rclone config\`, or its RCLONE_CONFIG_ variables)`,
      cause,
    });
  }
  if (result.exitCode !== undefined && notFoundExit.has(result.exitCode)) {
    return new BattError('NOT_FOUND', `${remote}: not found (${what})${why}`, { hint: `check the path in the remote "${name}"`, cause });
  }
  return new BattError('TOOL_FAILED', `rclone failed ${what} on ${remote}${why}`, { cause });
}
