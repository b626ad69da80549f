CREATE TABLE `api_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`hash` text NOT NULL,
	`prefix` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`last_used_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_name_unique` ON `api_tokens` (`name`);--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_hash_unique` ON `api_tokens` (`hash`);--> statement-breakpoint
CREATE TABLE `checks` (
	`cluster` text NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`interval` real NOT NULL,
	`timeout` real NOT NULL,
	`retries` integer NOT NULL,
	`delay_before_retry` real NOT NULL,
	`rise` integer NOT NULL,
	`fall` integer NOT NULL,
	`observers` text NOT NULL,
	`quorum` text NOT NULL,
	`params` text NOT NULL,
	PRIMARY KEY(`cluster`, `name`),
	FOREIGN KEY (`cluster`) REFERENCES `clusters`(`name`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `clusters` (
	`name` text PRIMARY KEY NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`revision` integer DEFAULT 0 NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `config_revisions` (
	`cluster` text NOT NULL,
	`revision` integer NOT NULL,
	`actor` text NOT NULL,
	`changes` text NOT NULL,
	`at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	PRIMARY KEY(`cluster`, `revision`),
	FOREIGN KEY (`cluster`) REFERENCES `clusters`(`name`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `enrollment_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`cluster` text NOT NULL,
	`node` text NOT NULL,
	`hash` text NOT NULL,
	`prefix` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`expires_at` text NOT NULL,
	`used_at` text,
	FOREIGN KEY (`cluster`) REFERENCES `clusters`(`name`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `enrollment_tokens_hash` ON `enrollment_tokens` (`hash`);--> statement-breakpoint
CREATE TABLE `events` (
	`id` text PRIMARY KEY NOT NULL,
	`cluster` text NOT NULL,
	`type` text NOT NULL,
	`severity` text NOT NULL,
	`subject` text NOT NULL,
	`details` text NOT NULL,
	`at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	FOREIGN KEY (`cluster`) REFERENCES `clusters`(`name`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `events_cluster_at` ON `events` (`cluster`,`at`);--> statement-breakpoint
CREATE TABLE `nodes` (
	`cluster` text NOT NULL,
	`name` text NOT NULL,
	`address` text NOT NULL,
	`labels` text NOT NULL,
	`agent_public_key` text,
	`enrolled_at` text,
	`online` integer DEFAULT false NOT NULL,
	`last_seen_at` text,
	PRIMARY KEY(`cluster`, `name`),
	FOREIGN KEY (`cluster`) REFERENCES `clusters`(`name`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `real_servers` (
	`cluster` text NOT NULL,
	`virtual_service` text NOT NULL,
	`name` text NOT NULL,
	`address` text NOT NULL,
	`port` integer NOT NULL,
	`weight` integer NOT NULL,
	`check` text,
	PRIMARY KEY(`cluster`, `virtual_service`, `name`),
	FOREIGN KEY (`cluster`,`virtual_service`) REFERENCES `virtual_services`(`cluster`,`name`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `sync_groups` (
	`cluster` text NOT NULL,
	`name` text NOT NULL,
	`vip_groups` text NOT NULL,
	`notify` text NOT NULL,
	PRIMARY KEY(`cluster`, `name`),
	FOREIGN KEY (`cluster`) REFERENCES `clusters`(`name`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `vip_groups` (
	`cluster` text NOT NULL,
	`name` text NOT NULL,
	`vips` text NOT NULL,
	`members` text NOT NULL,
	`preempt` integer NOT NULL,
	`preempt_delay` real NOT NULL,
	`lease_ttl` real NOT NULL,
	`garp` text NOT NULL,
	`on_coordinator_loss` text NOT NULL,
	`notify` text NOT NULL,
	`track` text NOT NULL,
	`track_interfaces` text NOT NULL,
	PRIMARY KEY(`cluster`, `name`),
	FOREIGN KEY (`cluster`) REFERENCES `clusters`(`name`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `virtual_services` (
	`cluster` text NOT NULL,
	`name` text NOT NULL,
	`vip_group` text NOT NULL,
	`address` text,
	`port` integer,
	`protocol` text NOT NULL,
	`fwmark` integer,
	`scheduler` text NOT NULL,
	`forwarding` text NOT NULL,
	`persistence` text,
	`driver` text NOT NULL,
	`haproxy_backend` text,
	`sorry_server` text,
	`inhibit_on_failure` integer NOT NULL,
	`min_healthy` integer NOT NULL,
	PRIMARY KEY(`cluster`, `name`),
	FOREIGN KEY (`cluster`) REFERENCES `clusters`(`name`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `webhooks` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`url` text NOT NULL,
	`format` text NOT NULL,
	`secrets` text NOT NULL,
	`filter` text NOT NULL,
	`hold_down` real NOT NULL,
	`max_per_hour` integer NOT NULL,
	`enabled` integer NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhooks_name_unique` ON `webhooks` (`name`);