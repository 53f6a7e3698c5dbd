/**
 * The catalog's tables. Every run gets a row in `runs`, every artifact (or failed target) a row
 * in `items`. Times are ISO-8601 UTC text so `sqlite3 catalog.db` is readable by people.
 * Changing this file means `pnpm --filter @batt/core db:generate` and committing the migration.
 */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

import { checkKinds, checkStatuses, itemStatuses, runStatuses } from './statuses.js';

export { checkKinds, checkStatuses, itemStatuses, runStatuses, type CheckKind, type CheckStatus, type ItemStatus, type RunStatus } from './statuses.js';

export const runs = sqliteTable(
  'runs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    startedAt: text('started_at').notNull(),
    finishedAt: text('finished_at'),
    status: text('status', { enum: runStatuses }).notNull(),
    host: text('host').notNull(),
    user: text('user').notNull(),
    /** The destination pattern, before expansion. */
    destination: text('destination').notNull(),
    /** The services asked for, comma-separated. */
    services: text('services').notNull(),
    pid: integer('pid').notNull(),
    error: text('error'),
    /** `--bundle`: the run's artifacts as one tar, its size and SHA-256. */
    bundleFile: text('bundle_file'),
    bundleBytes: integer('bundle_bytes'),
    bundleSha256: text('bundle_sha256'),
  },
  (t) => [index('runs_started_at').on(t.startedAt), index('runs_status').on(t.status)],
);

export const items = sqliteTable(
  'items',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    runId: integer('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    service: text('service').notNull(),
    target: text('target').notNull(),
    /** Absolute path of the artifact; null when the item failed before writing one. */
    file: text('file'),
    bytes: integer('bytes'),
    sha256: text('sha256'),
    compression: text('compression'),
    /** `age` or `gpg` when the file is encrypted to public keys; null when it is not. */
    encryption: text('encryption', { enum: ['age', 'gpg'] }),
    /** JSON: the public keys it was encrypted to (age1… recipients, gpg fingerprints); never a secret. */
    recipients: text('recipients'),
    /** False when the artifact went straight to its first storage (`keep_local: false`): `file` is where it would have been, and is fetched to when needed. */
    local: integer('local', { mode: 'boolean' }).notNull().default(true),
    startedAt: text('started_at').notNull(),
    finishedAt: text('finished_at'),
    status: text('status', { enum: itemStatuses }).notNull(),
    error: text('error'),
    toolVersion: text('tool_version'),
    serverVersion: text('server_version'),
    /** JSON: row counts per table, key counts, file counts, warnings. */
    facts: text('facts'),
    /** The tool's or script's stderr, redacted and capped. */
    log: text('log'),
    /** Why this backup looks wrong (its size or row count fell sharply); null when it does not. */
    suspect: text('suspect'),
    /** When a user accepted this (once suspect) backup as the new normal (`batt accept`): later backups compare with it. */
    acceptedAt: text('accepted_at'),
    /** Set while a prune removes this item: the next prune finishes the job if this one dies. */
    pruneId: integer('prune_id'),
    /** started_at as epoch ms, computed by SQLite (never stored): retention reads it from its index. */
    startedMs: integer('started_ms').generatedAlwaysAs(sql`cast(round((julianday(started_at) - 2440587.5) * 86400000) as integer)`, { mode: 'virtual' }),
  },
  (t) => [
    // (run_id, service) answers `batt runs --service X` from the index alone.
    index('items_run_id_service').on(t.runId, t.service),
    index('items_service_target').on(t.service, t.target),
    index('items_prune_id')
      .on(t.pruneId)
      .where(sql`prune_id is not null`),
    // Covers the prune plan's query: a million items are read from this index, not the table.
    index('items_retention').on(t.service, t.target, t.startedMs, t.status, t.suspect, t.pruneId, t.bytes),
    // Covers listings' run id and size by item id (itemDetails), and which target a drilled item
    // belongs to (drilledItems): tens of thousands of lookups read this narrow index, not the
    // wide rows (facts, logs) of the table.
    index('items_details').on(t.id, t.runId, t.bytes, t.service, t.target, t.status, t.pruneId),
    // Covers the failed or suspect items of a target (a few in a hundred), for a prune plan that
    // does not read every item.
    index('items_odd')
      .on(t.service, t.target, t.startedMs, t.status, t.suspect, t.pruneId, t.runId, t.bytes)
      .where(sql`status <> 'ok' or suspect is not null`),
  ],
);

/**
 * The copies of an item's artifact in other storages (`storage:`), each read back (size and
 * SHA-256) before it was recorded. A row is only ever written for a confirmed copy.
 */
export const copies = sqliteTable(
  'copies',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    itemId: integer('item_id')
      .notNull()
      .references(() => items.id, { onDelete: 'cascade' }),
    /** The storage's name in the configuration (`storage[].name`). */
    storage: text('storage').notNull(),
    /** Where it is there: the object key, the path below the remote, or the local path. */
    key: text('key').notNull(),
    bytes: integer('bytes').notNull(),
    sha256: text('sha256').notNull(),
    copiedAt: text('copied_at').notNull(),
  },
  (t) => [index('copies_item_id').on(t.itemId)],
);

export type CopyRow = typeof copies.$inferSelect;

/**
 * Proofs about an item after it was written: `verify` (re-hash and format check), `restore-test`
 * (a restore drill into a scratch target compared with the facts) and `restore` (a user's restore).
 */
export const checks = sqliteTable(
  'checks',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    itemId: integer('item_id')
      .notNull()
      .references(() => items.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: checkKinds }).notNull(),
    startedAt: text('started_at').notNull(),
    finishedAt: text('finished_at'),
    status: text('status', { enum: checkStatuses }).notNull(),
    /** Where a restore went (database, folder, server); null for a plain verify. */
    target: text('target'),
    /** JSON: each check's name, result and detail. */
    details: text('details'),
    error: text('error'),
    /** The batt process doing a running check: prune leaves the item alone while it lives. */
    pid: integer('pid'),
  },
  (t) => [
    index('checks_item_id').on(t.itemId),
    // The few running and failed checks (a prune's holds and failed verdicts) and the drilled
    // items, without reading every check.
    index('checks_running')
      .on(t.itemId, t.kind, t.pid)
      .where(sql`status = 'running'`),
    index('checks_failed')
      .on(t.itemId, t.kind)
      .where(sql`status = 'failed'`),
    index('checks_drilled')
      .on(t.itemId)
      .where(sql`kind = 'restore-test' and status = 'ok'`),
  ],
);

/**
 * One row per prune or purge: what was asked and how it ended. Items being removed point here,
 * so a prune that dies half-way is finished by the next one.
 */
export const prunes = sqliteTable('prunes', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  startedAt: text('started_at').notNull(),
  finishedAt: text('finished_at'),
  status: text('status', { enum: ['running', 'ok', 'failed'] }).notNull(),
  /** The rules, as given (e.g. `--keep-daily 7 --keep-weekly 4`). */
  rules: text('rules').notNull(),
  removed: integer('removed').notNull().default(0),
  bytes: integer('bytes').notNull().default(0),
  pid: integer('pid').notNull(),
  error: text('error'),
});

/**
 * How many finished items of each service + target are not being pruned, and their bytes: what a
 * prune plan sets its few kept backups against, without counting millions of rows. Kept by
 * triggers on `items` (migration 0008), so every write of an item, whatever makes it, counts.
 */
export const itemTotals = sqliteTable(
  'item_totals',
  {
    service: text('service').notNull(),
    target: text('target').notNull(),
    items: integer('items').notNull(),
    bytes: integer('bytes').notNull(),
  },
  (t) => [primaryKey({ columns: [t.service, t.target] })],
);

/**
 * Every service + target that ever passed a restore drill (a trigger on `checks` adds them,
 * migration 0008): prune looks for drilled backups it would remove only in these.
 */
export const drilledTargets = sqliteTable(
  'drilled_targets',
  {
    service: text('service').notNull(),
    target: text('target').notNull(),
  },
  (t) => [primaryKey({ columns: [t.service, t.target] })],
);

export type RunRow = typeof runs.$inferSelect;
export type ItemRow = typeof items.$inferSelect;
export type CheckRow = typeof checks.$inferSelect;
export type PruneRow = typeof prunes.$inferSelect;
