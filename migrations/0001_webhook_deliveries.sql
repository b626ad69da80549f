CREATE TABLE `deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`webhook_id` text NOT NULL,
	`event_id` text NOT NULL,
	`event_type` text NOT NULL,
	`subject` text NOT NULL,
	`event` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`next_at` text NOT NULL,
	`first_attempt_at` text,
	`delivered_at` text,
	`last_error` text,
	FOREIGN KEY (`webhook_id`) REFERENCES `webhooks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `deliveries_webhook_event` ON `deliveries` (`webhook_id`,`event_id`);--> statement-breakpoint
CREATE INDEX `deliveries_webhook_subject` ON `deliveries` (`webhook_id`,`subject`,`created_at`);--> statement-breakpoint
CREATE INDEX `deliveries_status_next` ON `deliveries` (`status`,`next_at`);--> statement-breakpoint
CREATE TABLE `delivery_attempts` (
	`delivery_id` text NOT NULL,
	`n` integer NOT NULL,
	`at` text NOT NULL,
	`status` integer,
	`latency_ms` integer NOT NULL,
	`error` text,
	PRIMARY KEY(`delivery_id`, `n`),
	FOREIGN KEY (`delivery_id`) REFERENCES `deliveries`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `events` ADD `dispatched_at` text;--> statement-breakpoint
CREATE INDEX `events_undispatched` ON `events` (`dispatched_at`);--> statement-breakpoint
ALTER TABLE `webhooks` ADD `routing_key` text;--> statement-breakpoint
ALTER TABLE `webhooks` ADD `consecutive_failures` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `webhooks` ADD `failing_since` text;