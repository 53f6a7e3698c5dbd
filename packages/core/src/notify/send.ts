/**
 * Sending inside a deadline: one attempt at a time, each cut off when the deadline passes, retried
 * after growing pauses (0.5 s, 1 s, 2 s, …) until one succeeds, one fails for good (a 4xx answer,
 * a refused login), or the deadline comes. Nothing here waits past the deadline, whatever the
 * server does (refuses, hangs, answers slowly).
 */
import { readSecretFile as readOwnerOnly } from '../config/secrets.js';
import { describeError } from '../errors/errors.js';

/** A failed attempt; `permanent`: trying again cannot help (a wrong URL, a refused login). */
export class SendError extends Error {
  constructor(
    message: string,
    readonly permanent = false,
  ) {
    super(message);
  }
}

/** A thrown value in one line, with the system error under fetch's "fetch failed". */
export function failureOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as (Error & { code?: string }) | undefined;
  return cause ? `${error.message}: ${cause.code ?? cause.message}` : error.message;
}

/**
 * An attempt at sending: it stops when `signal` aborts, and should not keep sockets or timers
 * beyond `ms` (batt's process ends only once they are gone).
 */
export type Attempt = (signal: AbortSignal, ms: number) => Promise<void>;

/** Runs `attempt` until it succeeds or `deadline` (epoch ms) passes; throws the last failure, saying how many tries it took. */
export async function withRetries(attempt: Attempt, deadline: number): Promise<void> {
  // Counted on the monotonic clock from here: a wall clock set back or forward (NTP, a resumed VM) must not stretch or cut the time.
  const end = performance.now() + (deadline - Date.now());
  const left = (): number => end - performance.now();
  let pause = 500;
  for (let tries = 1; ; tries++) {
    try {
      return await bounded(attempt, left());
    } catch (error) {
      // No pause that would reach the deadline: another try then would have no time left.
      const final = (error instanceof SendError && error.permanent) || pause >= left();
      if (final) throw new Error(`${failureOf(error)} (${tries} ${tries === 1 ? 'try' : 'tries'})`);
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause *= 2;
    }
  }
}

/** One attempt, given `ms` at most: its signal is aborted then, and the attempt is no longer waited for. */
async function bounded(attempt: Attempt, ms: number): Promise<void> {
  if (ms <= 0) throw new Error('no time left');
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${(ms / 1000).toFixed(1)} s`)), ms);
  const cutOff = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error)));
  try {
    await Promise.race([attempt(controller.signal, ms), cutOff]);
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

/** An HTTP request that must be answered 2xx; a 4xx other than 408 and 429 is permanent. */
export async function httpRequest(url: string, init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string }, signal: AbortSignal): Promise<void> {
  const response = await fetch(url, { ...init, headers: { 'user-agent': 'batt', ...init.headers }, signal, redirect: 'follow' });
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok) {
    const { status } = response;
    throw new SendError(`HTTP ${status} ${response.statusText}`.trim(), status >= 400 && status < 500 && status !== 408 && status !== 429);
  }
}

/** A secret kept in a file only its owner may read (a Slack URL, an SMTP password): a failure of the channel, for good, when it cannot be. */
export function readSecretFile(key: string, path: string): string {
  try {
    return readOwnerOnly(key, path);
  } catch (error) {
    throw new SendError(describeError(error), true);
  }
}
