/** Run and item statuses, apart from the schema so the CLI can name them without loading drizzle. */
export const runStatuses = ['running', 'ok', 'partial', 'failed', 'aborted'] as const;
export type RunStatus = (typeof runStatuses)[number];
export const itemStatuses = ['running', 'ok', 'failed', 'aborted'] as const;
export type ItemStatus = (typeof itemStatuses)[number];
export const checkKinds = ['verify', 'restore-test', 'restore'] as const;
export type CheckKind = (typeof checkKinds)[number];
/** `aborted`: the batt doing the check died; says nothing about the backup. */
export const checkStatuses = ['running', 'ok', 'failed', 'aborted'] as const;
export type CheckStatus = (typeof checkStatuses)[number];
