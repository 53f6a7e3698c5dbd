/**
 * @batt/core: the plugin contract, the stream pipeline, the catalog and the backup run.
 * Plugins import their contract and helpers from here; the CLI wires everything together.
 */
export * from './errors/errors.js';
export * from './exec/exec.js';
export * from './plugins/types.js';
export * from './plugins/registry.js';
export * from './plugins/discovery.js';
export * from './plugins/enable.js';
export * from './backup/script-runner.js';
export * from './config/schema.js';
export * from './config/load.js';
export * from './destination/expand.js';
export * from './home/home.js';
export * from './home/lock.js';
export * from './storage/atomic-file.js';
export * from './pipeline/compress.js';
export * from './pipeline/hash.js';
export * from './pipeline/artifact.js';
export * from './log/logger.js';
export * from './text/printable.js';
export * from './manifest/manifest.js';
export * from './text/names.js';
export * from './backup/backup-run.js';
export * from './events/events.js';
export type { CatalogDb } from './catalog/db.js';
export { openCatalog, closeCatalog, migrationsFolder } from './catalog/db.js';
export * from './catalog/queries.js';
export { itemDetails, itemExists, itemFileReader, targetsOf } from './catalog/items.js';
export { drilledItems } from './catalog/checks.js';
export * from './catalog/schema.js';
export * from './config/secrets.js';
export * from './restore/artifact.js';
export * from './restore/select.js';
export * from './restore/restore-run.js';
export type { PlannedRestore } from './restore/plan.js';
export * from './restore/verify-run.js';
export * from './retention/policy.js';
export * from './retention/rules.js';
export * from './retention/prune.js';
export * from './retention/prune-plan.js';
export * from './retention/prune-run.js';
export * from './destination/folders.js';
export * from './backup/suspect.js';
export * from './backup/bundle.js';
export * from './repair/check.js';
export { hasCopies } from './catalog/copies.js';
export * from './repair/rebuild.js';
