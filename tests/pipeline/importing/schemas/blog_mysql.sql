-- A publishing platform, MySQL 8: AUTO_INCREMENT, inline ENUMs, TINYINT(1) booleans, a threaded
-- comment self-reference, a composite tag key, table options and inline index definitions.
SET NAMES utf8mb4;

CREATE TABLE `authors` (
  `id` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `email` VARCHAR(191) NOT NULL,
  `display_name` VARCHAR(100) NOT NULL,
  `bio` TEXT,
  `country` VARCHAR(2),
  `is_verified` TINYINT(1) NOT NULL DEFAULT 0,
  `role` ENUM('writer','editor','admin') NOT NULL DEFAULT 'writer',
  `created_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `updated_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_authors_email` (`email`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `categories` (
  `id` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `parent_id` INT UNSIGNED NULL,
  `name` VARCHAR(80) NOT NULL,
  PRIMARY KEY (`id`),
  CONSTRAINT `fk_categories_parent` FOREIGN KEY (`parent_id`) REFERENCES `categories` (`id`)
) ENGINE=InnoDB;

CREATE TABLE `posts` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `author_id` INT UNSIGNED NOT NULL,
  `category_id` INT UNSIGNED,
  `slug` VARCHAR(160) NOT NULL,
  `title` VARCHAR(200) NOT NULL,
  `body` MEDIUMTEXT NOT NULL,
  `status` ENUM('draft','review','published','archived') NOT NULL DEFAULT 'draft',
  `word_count` INT UNSIGNED NOT NULL DEFAULT 0,
  `published_at` DATETIME NULL,
  `created_at` DATETIME NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_posts_slug` (`slug`),
  KEY `ix_posts_author` (`author_id`),
  CONSTRAINT `fk_posts_author` FOREIGN KEY (`author_id`) REFERENCES `authors` (`id`),
  CONSTRAINT `fk_posts_category` FOREIGN KEY (`category_id`) REFERENCES `categories` (`id`) ON DELETE SET NULL,
  CONSTRAINT `ck_posts_words` CHECK (`word_count` <= 50000)
) ENGINE=InnoDB;

CREATE TABLE `tags` (
  `id` SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `label` VARCHAR(40) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY (`label`)
);

CREATE TABLE `post_tags` (
  `post_id` BIGINT UNSIGNED NOT NULL,
  `tag_id` SMALLINT UNSIGNED NOT NULL,
  PRIMARY KEY (`post_id`, `tag_id`),
  FOREIGN KEY (`post_id`) REFERENCES `posts` (`id`),
  FOREIGN KEY (`tag_id`) REFERENCES `tags` (`id`)
);

CREATE TABLE `comments` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `post_id` BIGINT UNSIGNED NOT NULL,
  `parent_comment_id` BIGINT UNSIGNED DEFAULT NULL,
  `author_name` VARCHAR(80) NOT NULL,
  `author_email` VARCHAR(191),
  `ip_address` VARCHAR(45),
  `content` TEXT NOT NULL,
  `score` DECIMAL(3,1) CHECK (`score` BETWEEN 0 AND 10),
  `created_at` DATETIME NOT NULL,
  PRIMARY KEY (`id`),
  FOREIGN KEY (`post_id`) REFERENCES `posts` (`id`),
  FOREIGN KEY (`parent_comment_id`) REFERENCES `comments` (`id`)
);

CREATE TABLE `subscriptions` (
  `id` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `email` VARCHAR(191) NOT NULL,
  `author_id` INT UNSIGNED NOT NULL,
  `frequency` ENUM('daily','weekly','monthly') NOT NULL,
  `confirmed` TINYINT(1) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_subscription` (`email`, `author_id`),
  FOREIGN KEY (`author_id`) REFERENCES `authors` (`id`)
);

CREATE VIEW `published_posts` AS SELECT * FROM `posts` WHERE `status` = 'published';
CREATE INDEX `ix_comments_created` ON `comments` (`created_at`);
