/**
 * The catalog's tables. Every run gets a row in `runs`, every artifact (or failed target) a row
 * in `items`. Times are ISO-8601 UTC text so `sqlite3 catalog.db` is readable by people.
 * Changing this file means `pnpm --filter @batt/core db:generate` and committing the migration.
 */
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

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
  },
  (t) => [index('items_run_id').on(t.runId), index('items_service_target').on(t.service, t.target)],
);

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
  },
  (t) => [index('checks_item_id').on(t.itemId)],
);

export type RunRow = typeof runs.$inferSelect;
export type ItemRow = typeof items.$inferSelect;
export type CheckRow = typeof checks.$inferSelect;
