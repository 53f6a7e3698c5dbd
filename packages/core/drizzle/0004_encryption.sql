ALTER TABLE `items` ADD `encryption` text;--> statement-breakpoint
ALTER TABLE `items` ADD `recipients` text;