ALTER TABLE `webhooks` ADD `email` text;--> statement-breakpoint
ALTER TABLE `webhooks` ADD `smtp_password` text;