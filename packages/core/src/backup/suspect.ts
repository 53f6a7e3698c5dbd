/**
 * Suspect backups: one whose size or row/key count falls sharply against the previous good
 * backups of the same target (a dump of an emptied table, a folder that vanished, a replica
 * that stopped) is marked in the catalog. It stays a backup, but retention does not count it
 * as good, so it cannot push the good ones out.
 */
import { newestVerdicts } from '../catalog/checks.js';
import { inTransaction, type CatalogDb } from '../catalog/db.js';
import { acceptItems, baselineItems, setSuspect, suspectItemsOf } from '../catalog/items.js';
import { BattError } from '../errors/errors.js';
import { humanBytes } from '../text/names.js';

export interface Measure {
  bytes: number;
  /** Rows (databases) or keys (redis) recorded at backup time, when the service counts them. */
  rows?: number;
}

/** Below this a size says little: compression headers and empty tables dominate. */
const MIN_BYTES = 64 * 1024;
const PREVIOUS = 3;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Why `current` looks wrong against `previous` (newest first, up to 3 are used), or undefined.
 * `below` is the fraction of the usual value under which a backup is suspect; 0 turns it off.
 */
export function suspectReason(current: Measure, previous: readonly Measure[], below: number): string | undefined {
  if (below <= 0 || previous.length === 0) return undefined;
  const recent = previous.slice(0, PREVIOUS);
  const usualBytes = median(recent.map((p) => p.bytes));
  const reasons: string[] = [];
  if (usualBytes >= MIN_BYTES && current.bytes < usualBytes * below) {
    reasons.push(`size ${humanBytes(current.bytes)} is ${Math.round((current.bytes / usualBytes) * 100)}% of the usual ${humanBytes(usualBytes)}`);
  }
  const counted = recent.filter((p) => p.rows !== undefined).map((p) => p.rows!);
  if (current.rows !== undefined && counted.length) {
    const usualRows = median(counted);
    if (usualRows > 0 && current.rows < usualRows * below) reasons.push(`${current.rows} rows/keys against the usual ${usualRows}`);
  }
  return reasons.length ? reasons.join('; ') : undefined;
}

/** The row or key total a service recorded in an item's facts. */
export function countOf(facts: string | null): number | undefined {
  if (!facts) return undefined;
  const parsed = JSON.parse(facts) as { rowCounts?: Record<string, number>; keys?: number };
  if (parsed.rowCounts) return Object.values(parsed.rowCounts).reduce((n, v) => n + v, 0);
  return typeof parsed.keys === 'number' ? parsed.keys : undefined;
}

/**
 * Compares a finished item with the target's previous good backups and marks it if suspect.
 * Suspect backups are no baseline (a streak of them must not become the new normal by itself);
 * a backup the user accepted is, and nothing before it counts.
 */
export function markIfSuspect(db: CatalogDb, item: { id: number; service: string; target: string; bytes: number; facts: string | null }, below: number): string | undefined {
  if (below <= 0) return undefined;
  const rows = baselineItems(db, item.service, item.target, item.id, PREVIOUS);
  const accepted = rows.findIndex((r) => r[2] !== null);
  const previous = (accepted === -1 ? rows : rows.slice(0, accepted + 1)).map(([bytes, facts]) => ({ bytes, rows: countOf(facts) }));
  const reason = suspectReason({ bytes: item.bytes, rows: countOf(item.facts) }, previous, below);
  if (reason) setSuspect(db, item.id, reason);
  return reason;
}

/** `batt accept`: the suspect backups of a run (optionally one service/target) become good, and the new baseline. */
export function acceptSuspect(db: CatalogDb, runId: number, service?: string, target?: string): { service: string; target: string; was: string }[] {
  return inTransaction(db, () => {
    const rows = suspectItemsOf(db, runId, service, target);
    // A backup whose newest verify or drill failed (a SHA-256 mismatch, say) is damaged, not just small: never a baseline.
    const verdicts = newestVerdicts(
      db,
      rows.map(([id]) => id),
    );
    const damaged = rows.flatMap(([id, s, t]) => {
      const check = verdicts.get(id);
      return check?.[1] === 'failed' ? [`${s} ${t}: its latest ${check[0]} failed${check[2] ? ` (${check[2]})` : ''}`] : [];
    });
    if (damaged.length) {
      throw new BattError('INTEGRITY', `run ${runId} cannot be accepted: ${damaged.join('; ')}`, {
        hint: `a backup that failed its check is no baseline: run \`batt verify ${runId}\` again if the cause is fixed, else take a new backup`,
      });
    }
    acceptItems(
      db,
      rows.map(([id]) => id),
    );
    return rows.map(([, s, t, was]) => ({ service: s, target: t, was }));
  });
}
