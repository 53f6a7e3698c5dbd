CREATE TABLE `items` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`run_id` integer NOT NULL,
	`service` text NOT NULL,
	`target` text NOT NULL,
	`file` text,
	`bytes` integer,
	`sha256` text,
	`compression` text,
	`started_at` text NOT NULL,
	`finished_at` text,
	`status` text NOT NULL,
	`error` text,
	`tool_version` text,
	`server_version` text,
	`facts` text,
	`log` text,
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `items_run_id` ON `items` (`run_id`);--> statement-breakpoint
CREATE INDEX `items_service_target` ON `items` (`service`,`target`);--> statement-breakpoint
CREATE TABLE `runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`started_at` text NOT NULL,
	`finished_at` text,
	`status` text NOT NULL,
	`host` text NOT NULL,
	`user` text NOT NULL,
	`destination` text NOT NULL,
	`services` text NOT NULL,
	`pid` integer NOT NULL,
	`error` text
);
--> statement-breakpoint
CREATE INDEX `runs_started_at` ON `runs` (`started_at`);--> statement-breakpoint
CREATE INDEX `runs_status` ON `runs` (`status`);