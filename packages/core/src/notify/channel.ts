/** The contract every notification channel (slack.ts, webhook.ts, email.ts, healthchecks.ts) keeps. */
import type { Notice } from './message.js';

export interface Channel {
  /** Its key under `notify:`, which names it in warnings. */
  name: string;
  /** True: told of every backup run whatever `notify.on` says (healthchecks must hear of each, or alarms). */
  everyRun?: boolean;
  /** Tells the start of a backup run (healthchecks' url/start). */
  started?(signal: AbortSignal): Promise<void>;
  /** Tells a finished run; throws when it could not (send.ts retries it). Stops when `signal` aborts, and holds nothing open past `ms`. */
  finished(notice: Notice, signal: AbortSignal, ms: number): Promise<void>;
}
