CREATE TABLE `copies` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`item_id` integer NOT NULL,
	`storage` text NOT NULL,
	`key` text NOT NULL,
	`bytes` integer NOT NULL,
	`sha256` text NOT NULL,
	`copied_at` text NOT NULL,
	FOREIGN KEY (`item_id`) REFERENCES `items`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `copies_item_id` ON `copies` (`item_id`);