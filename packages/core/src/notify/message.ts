/**
 * What a notification says about a run, built from its events: the host, the run, each failed or
 * suspect item with its cause and fix, and where to see more (`batt show N`). Every channel sends
 * the same facts: as text (Slack, email, the webhook's `text`) or as the webhook's JSON body
 * (docs/notifications.md documents it; `version` changes only when a field changes meaning).
 */
import type { RunStatus } from '../catalog/statuses.js';
import { ExitCode } from '../errors/errors.js';
import { whyFailed, type BackupEvent, type VerifyEvent } from '../events/events.js';
import { redact } from '../log/logger.js';
import type { NotifyWhen } from '../config/notify-keys.js';

/** A failed or suspect item: a backup, or a verify or restore drill of one (`check`). */
export interface NoticeItem {
  service: string;
  target: string;
  status: 'failed' | 'aborted' | 'suspect';
  /** The backup run the item belongs to. */
  runId: number;
  check?: 'verify' | 'restore-test';
  /** The cause, with the fix batt knows in parentheses. */
  error?: string;
  /** Why a backup looks wrong (its size or rows fell sharply). */
  suspect?: string;
}

/** One finished run, as every channel tells it: the webhook's JSON body is this object. */
export interface Notice {
  version: 1;
  /** The `notify.on` word the run falls under. */
  event: NotifyWhen;
  kind: 'backup' | 'verify';
  host: string;
  /** The backup run; absent for a verify, whose items name their runs. */
  runId?: number;
  status: RunStatus;
  /** What `batt` exits with for this run (healthchecks pings url/<exitCode>). */
  exitCode: number;
  startedAt: string;
  finishedAt: string;
  ok: number;
  failed: number;
  suspect: number;
  /** The failed and suspect items only; `ok`, `failed` and `suspect` count them all. */
  items: NoticeItem[];
  /** Why the whole run failed, when it failed before its items could. */
  error?: string;
  /** Where to see more: `batt show N` for each run concerned. */
  show: string[];
  /** The whole notice as plain text: its first line is the email's subject. */
  text: string;
}

type Started = Extract<BackupEvent | VerifyEvent, { type: 'run-started' }>;
type Finished = Extract<BackupEvent | VerifyEvent, { type: 'item-finished' }>;
type Ended = Extract<BackupEvent | VerifyEvent, { type: 'run-finished' }>;

/** Collects one backup or verify run's events; `notice` is the run told once it finished. */
export class RunNotes {
  private started?: Started;
  private readonly items: NoticeItem[] = [];
  private suspects = 0;

  start(event: Started): void {
    this.started = event;
    this.items.length = 0;
    this.suspects = 0;
  }

  item(event: Finished): void {
    if (event.kind === 'backup') {
      const { service, target, runId } = event;
      if (event.status === 'ok' && event.suspect) {
        this.suspects++;
        this.items.push({ service, target, runId, status: 'suspect', suspect: event.suspect });
      } else if (event.status === 'failed' || event.status === 'aborted') this.items.push({ service, target, runId, status: event.status, error: event.error });
    } else if (event.status === 'failed') {
      this.items.push({ service: event.service, target: event.target, runId: event.runId, status: 'failed', check: event.check, error: whyFailed(event) });
    }
  }

  /** The finished run, every text in it with `secrets` masked. */
  notice(end: Ended, host: string, secrets: Iterable<string>): Notice {
    const runId = end.kind === 'backup' ? end.runId : undefined;
    const status = end.status;
    const event: NotifyWhen = status !== 'ok' ? 'failure' : this.suspects ? 'suspect' : 'success';
    const exitCode = status === 'aborted' ? ExitCode.interrupted : status !== 'ok' ? ExitCode.failed : event === 'suspect' ? ExitCode.suspect : ExitCode.ok;
    const runs = runId !== undefined ? [runId] : [...new Set(this.items.map((i) => i.runId))];
    const notice: Omit<Notice, 'text'> = {
      version: 1,
      event,
      kind: end.kind,
      host,
      ...(runId === undefined ? {} : { runId }),
      status,
      exitCode,
      startedAt: this.started?.at ?? end.at,
      finishedAt: end.at,
      ok: end.ok,
      failed: end.failed,
      suspect: this.suspects,
      items: [...this.items],
      ...(end.kind === 'backup' && end.error ? { error: end.error } : {}),
      show: runs.length ? runs.map((id) => `batt show ${id}`) : ['batt runs'],
    };
    return masked({ ...notice, text: textOf(notice) }, secrets);
  }
}

/** A backup run that never started: another batt run held the home's lock (exit 75). */
export function skippedNotice(host: string, why: string, at: string, secrets: Iterable<string>): Notice {
  const notice: Omit<Notice, 'text'> = {
    version: 1,
    event: 'failure',
    kind: 'backup',
    host,
    status: 'failed',
    exitCode: ExitCode.locked,
    startedAt: at,
    finishedAt: at,
    ok: 0,
    failed: 0,
    suspect: 0,
    items: [],
    error: why,
    show: ['batt runs'],
  };
  const text = [`batt on ${host}: backup SKIPPED: it did not start`, `- ${why}`, 'More: batt runs'].join('\n');
  return masked({ ...notice, text }, secrets);
}

/** The notice in words: a headline, one line per failed or suspect item, and where to see more. */
function textOf(n: Omit<Notice, 'text'>): string {
  const what = n.kind === 'backup' ? `backup run ${n.runId}` : 'verify';
  const word = n.event === 'suspect' ? 'SUSPECT' : n.status === 'ok' ? 'ok' : n.status.toUpperCase();
  const noun = n.kind === 'backup' ? 'item' : 'check';
  const total = n.ok + n.failed;
  const counts = n.failed ? `${n.failed} of ${total} ${noun}s failed` : `${n.ok} of ${total} ${noun}s ok${n.suspect ? `, ${n.suspect} suspect` : ''}`;
  const lines = [`batt on ${n.host}: ${what} ${word} (${counts})`];
  if (n.error) lines.push(`- ${n.error}`);
  for (const i of n.items) {
    const check = i.check === 'restore-test' ? ' restore drill' : i.check ? ' verify' : '';
    const run = n.kind === 'verify' ? ` (run ${i.runId})` : '';
    if (i.status === 'suspect')
      lines.push(
        `- ${i.service} ${i.target}: SUSPECT: ${i.suspect}; check the source, then \`batt verify ${i.runId}\`, or \`batt accept ${i.runId}\` to take it as the new normal`,
      );
    else lines.push(`- ${i.service} ${i.target}${run}${check}: ${i.status}: ${i.error ?? 'no cause recorded'}`);
  }
  lines.push(`More: ${n.show.join(', ')}`);
  return lines.join('\n');
}

/** `value` with `secrets` masked in every string it holds. */
function masked<T>(value: T, secrets: Iterable<string>): T {
  const list = [...secrets];
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v, list);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
