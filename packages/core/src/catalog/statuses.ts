/** Run and item statuses, apart from the schema so the CLI can name them without loading drizzle. */
export const runStatuses = ['running', 'ok', 'partial', 'failed', 'aborted'] as const;
export type RunStatus = (typeof runStatuses)[number];
export const itemStatuses = ['running', 'ok', 'failed', 'aborted'] as const;
export type ItemStatus = (typeof itemStatuses)[number];
