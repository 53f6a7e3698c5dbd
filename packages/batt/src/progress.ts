/**
 * What a person or a script sees while a backup runs, from the run's events:
 * - `--json`: every event as one JSON line on stdout (docs/usage.md has the schema); the command
 *   prints the last line, the run's report;
 * - on a terminal: a live line per running item (bytes, rate, elapsed), redrawn in place under
 *   the log's lines;
 * - off a terminal: a plain line per running item at most every `plainEveryMs`;
 * - `-q`: nothing.
 */
import type { BackupEvent, RunEvent, RunEvents } from '@batt/core';
import { humanBytes } from '@batt/core/text/names';
import { printable } from '@batt/core/text/printable';

export interface ProgressOptions {
  json: boolean;
  quiet: boolean;
  /** stderr is a terminal. */
  tty: boolean;
  plainEveryMs?: number;
}

type Running = { service: string; target: string; bytes: number; seconds: number; started: number; said: number };

const keyOf = (e: { service: string; target: string }): string => `${e.service}\0${e.target}`;

const lineOf = (r: Running, now: number): string => {
  const seconds = r.seconds || (now - r.started) / 1000;
  const rate = seconds > 0 ? `${humanBytes(r.bytes / seconds)}/s` : '…';
  return printable(`${r.service} ${r.target}: ${humanBytes(r.bytes)}, ${rate}, ${Math.round((now - r.started) / 1000)}s`);
};

/** Shows a backup run's progress as `options` say; returns the function that stops it. */
export function showProgress(events: RunEvents, options: ProgressOptions): () => void {
  if (options.json) return events.on((e: RunEvent) => e.type !== 'run-finished' && process.stdout.write(`${JSON.stringify(e)}\n`));
  if (options.quiet) return () => {};
  const running = new Map<string, Running>();
  const onEvent = (e: BackupEvent): void => {
    const now = Date.now();
    if (e.type === 'item-started') running.set(keyOf(e), { service: e.service, target: e.target, bytes: 0, seconds: 0, started: now, said: now });
    else if (e.type === 'item-finished') running.delete(keyOf(e));
    else if (e.type === 'item-progress') {
      const r = running.get(keyOf(e));
      if (!r) return;
      r.bytes = e.bytes;
      r.seconds = e.seconds;
      if (!options.tty && now - r.said >= (options.plainEveryMs ?? 5000)) {
        r.said = now;
        process.stderr.write(`${lineOf(r, now)}\n`);
      }
    }
  };
  if (!options.tty) return events.on((e) => e.kind === 'backup' && onEvent(e));
  return liveLines(events, running, onEvent);
}

/**
 * The live lines at the bottom of the terminal: cleared before anything else reaches stderr (the
 * log's lines) and drawn again after it, and once a second while items run.
 */
function liveLines(events: RunEvents, running: Map<string, Running>, onEvent: (e: BackupEvent) => void): () => void {
  const stderr = process.stderr;
  const write = stderr.write.bind(stderr) as (chunk: string) => boolean;
  let drawn = 0;
  const clear = (): void => {
    if (drawn) write(`\x1b[${drawn}A\x1b[0J`);
    drawn = 0;
  };
  const draw = (): void => {
    clear();
    const width = Math.max(20, (stderr.columns || 80) - 1);
    const lines = [...running.values()].map((r) => lineOf(r, Date.now()).slice(0, width));
    if (lines.length) write(`${lines.join('\n')}\n`);
    drawn = lines.length;
  };
  stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    clear();
    const done = (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    draw();
    return done;
  }) as typeof stderr.write;
  const timer = setInterval(draw, 1000);
  timer.unref();
  const off = events.on((e) => {
    if (e.kind !== 'backup') return;
    onEvent(e);
    if (e.type !== 'item-warning') draw();
  });
  return () => {
    off();
    clearInterval(timer);
    clear();
    stderr.write = write as typeof stderr.write;
  };
}
