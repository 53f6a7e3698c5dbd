/**
 * Loggers scoped to a service (as semantic-release gives each plugin its own): lines go to
 * stderr for people (unless quiet) and, as JSON lines, to the run's log file, with every registered secret
 * masked before anything is written. A message is one line: control characters in it (a path
 * with a newline, a tool's escape sequences) are escaped, so no outside text can forge a line.
 */
import { appendFileSync } from 'node:fs';
import { printable } from '../text/printable.js';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** A logger whose lines are prefixed with `scope`. */
  scoped(scope: string): Logger;
}

export interface LogSink {
  /** What reaches stderr: everything, warnings and errors (--json), errors only (--quiet), or nothing. */
  console: 'info' | 'warn' | 'error' | 'none';
  /** Appended to, when set: the run's log under logs/. */
  file?: string;
  secrets: Set<string>;
}

export function redact(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 3) out = out.split(secret).join('********');
  return out;
}

export function createLogger(sink: LogSink, scope = ''): Logger {
  const write = (level: string, message: string): void => {
    const text = printable(redact(message, sink.secrets));
    const line = `${scope ? `[${printable(scope)}] ` : ''}${text}`;
    if (sink.console === 'info' || (sink.console === 'warn' && level !== 'info') || (sink.console === 'error' && level === 'error'))
      process.stderr.write(`${level === 'info' ? '' : `${level}: `}${line}\n`);
    if (sink.file) {
      try {
        // One JSON object per line (docs/usage.md#the-log); the file is opened for each line, so logrotate may move it any time.
        const entry = { time: new Date().toISOString(), level, ...(scope ? { scope } : {}), pid: process.pid, message: text };
        appendFileSync(sink.file, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
      } catch {
        // A log that cannot be written must not fail the backup; the catalog still has the error.
      }
    }
  };
  return {
    info: (m) => write('info', m),
    warn: (m) => write('warning', m),
    error: (m) => write('error', m),
    scoped: (s) => createLogger(sink, scope ? `${scope}/${s}` : s),
  };
}
