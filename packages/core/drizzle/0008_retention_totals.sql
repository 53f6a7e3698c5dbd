CREATE TABLE `drilled_targets` (
	`service` text NOT NULL,
	`target` text NOT NULL,
	PRIMARY KEY(`service`, `target`)
);
--> statement-breakpoint
CREATE TABLE `item_totals` (
	`service` text NOT NULL,
	`target` text NOT NULL,
	`items` integer NOT NULL,
	`bytes` integer NOT NULL,
	PRIMARY KEY(`service`, `target`)
);
--> statement-breakpoint
DROP INDEX `items_details`;--> statement-breakpoint
CREATE INDEX `items_odd` ON `items` (`service`,`target`,`started_ms`,`status`,`suspect`,`prune_id`,`run_id`,`bytes`) WHERE status <> 'ok' or suspect is not null;--> statement-breakpoint
CREATE INDEX `items_details` ON `items` (`id`,`run_id`,`bytes`,`service`,`target`,`status`,`prune_id`);--> statement-breakpoint
CREATE INDEX `checks_running` ON `checks` (`item_id`,`kind`,`pid`) WHERE status = 'running';--> statement-breakpoint
CREATE INDEX `checks_failed` ON `checks` (`item_id`,`kind`) WHERE status = 'failed';--> statement-breakpoint
CREATE INDEX `checks_drilled` ON `checks` (`item_id`) WHERE kind = 'restore-test' and status = 'ok';
--> statement-breakpoint
INSERT INTO `item_totals` SELECT `service`, `target`, count(*), coalesce(sum(`bytes`), 0) FROM `items` WHERE `prune_id` IS NULL AND `status` <> 'running' GROUP BY `service`, `target`;
--> statement-breakpoint
CREATE TRIGGER `item_totals_insert` AFTER INSERT ON `items` WHEN new.`prune_id` IS NULL AND new.`status` <> 'running' BEGIN
	INSERT INTO `item_totals` VALUES (new.`service`, new.`target`, 1, coalesce(new.`bytes`, 0))
		ON CONFLICT (`service`, `target`) DO UPDATE SET `items` = `items` + 1, `bytes` = `bytes` + excluded.`bytes`;
END;
--> statement-breakpoint
CREATE TRIGGER `item_totals_delete` AFTER DELETE ON `items` WHEN old.`prune_id` IS NULL AND old.`status` <> 'running' BEGIN
	UPDATE `item_totals` SET `items` = `items` - 1, `bytes` = `bytes` - coalesce(old.`bytes`, 0) WHERE `service` = old.`service` AND `target` = old.`target`;
END;
--> statement-breakpoint
CREATE TRIGGER `item_totals_update` AFTER UPDATE OF `service`, `target`, `status`, `prune_id`, `bytes` ON `items` BEGIN
	UPDATE `item_totals` SET `items` = `items` - 1, `bytes` = `bytes` - coalesce(old.`bytes`, 0)
		WHERE old.`prune_id` IS NULL AND old.`status` <> 'running' AND `service` = old.`service` AND `target` = old.`target`;
	INSERT INTO `item_totals` SELECT new.`service`, new.`target`, 1, coalesce(new.`bytes`, 0) WHERE new.`prune_id` IS NULL AND new.`status` <> 'running'
		ON CONFLICT (`service`, `target`) DO UPDATE SET `items` = `items` + 1, `bytes` = `bytes` + excluded.`bytes`;
END;
--> statement-breakpoint
INSERT OR IGNORE INTO `drilled_targets` SELECT DISTINCT i.`service`, i.`target` FROM `checks` c JOIN `items` i ON i.`id` = c.`item_id` WHERE c.`kind` = 'restore-test' AND c.`status` = 'ok';
--> statement-breakpoint
CREATE TRIGGER `drilled_targets_insert` AFTER INSERT ON `checks` WHEN new.`kind` = 'restore-test' AND new.`status` = 'ok' BEGIN
	INSERT OR IGNORE INTO `drilled_targets` SELECT `service`, `target` FROM `items` WHERE `id` = new.`item_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `drilled_targets_update` AFTER UPDATE OF `status`, `kind`, `item_id` ON `checks` WHEN new.`kind` = 'restore-test' AND new.`status` = 'ok' BEGIN
	INSERT OR IGNORE INTO `drilled_targets` SELECT `service`, `target` FROM `items` WHERE `id` = new.`item_id`;
END;
