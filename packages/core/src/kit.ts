/**
 * The plugin kit: everything a service plugin may use from batt's core, and nothing else. A
 * plugin imports `@batt/core/kit` only; what is not here is the core's own business.
 */
export { defineConfigKeys, definePlugin } from './plugins/types.js';
export type { BackupCommand, BackupStream, Check, DoctorCheck, ItemFacts, Plugin, PluginContext, PluginExec, RestoreOptions, RestorePlan, RestoreSource } from './plugins/types.js';
export type { ConfigOf } from './config/schema.js';
export { BattError } from './errors/errors.js';
export { DoctorChecks, doctorTargets, listed, probe } from './doctor/checks.js';
export { collect, runTool, spawnTool, stderrText, teeTo, toolFailure, toolVersion, which } from './exec/exec.js';
export type { ToolOptions, ToolProcess, ToolResult } from './exec/exec.js';
export { databaseKeys, passwordOf, serverKeys, serverOf } from './config/secrets.js';
export { privateFile, privateScratch } from './home/home.js';
export { hashFile } from './pipeline/hash.js';
export { keepTail } from './restore/artifact.js';
export { assertChecks, compareCounts, counted } from './restore/select.js';
