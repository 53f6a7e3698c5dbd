CREATE TABLE `prunes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`started_at` text NOT NULL,
	`finished_at` text,
	`status` text NOT NULL,
	`rules` text NOT NULL,
	`removed` integer DEFAULT 0 NOT NULL,
	`bytes` integer DEFAULT 0 NOT NULL,
	`pid` integer NOT NULL,
	`error` text
);
--> statement-breakpoint
ALTER TABLE `checks` ADD `pid` integer;--> statement-breakpoint
ALTER TABLE `items` ADD `suspect` text;--> statement-breakpoint
ALTER TABLE `items` ADD `prune_id` integer;--> statement-breakpoint
CREATE INDEX `items_prune_id` ON `items` (`prune_id`) WHERE prune_id is not null;--> statement-breakpoint
ALTER TABLE `runs` ADD `bundle_file` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `bundle_bytes` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `bundle_sha256` text;