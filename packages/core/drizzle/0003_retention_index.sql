DROP INDEX `items_run_id`;--> statement-breakpoint
ALTER TABLE `items` ADD `accepted_at` text;--> statement-breakpoint
ALTER TABLE `items` ADD `started_ms` integer GENERATED ALWAYS AS (cast(round((julianday(started_at) - 2440587.5) * 86400000) as integer)) VIRTUAL;--> statement-breakpoint
CREATE INDEX `items_run_id_service` ON `items` (`run_id`,`service`);--> statement-breakpoint
CREATE INDEX `items_retention` ON `items` (`service`,`target`,`started_ms`,`status`,`suspect`,`prune_id`,`bytes`);