-- The Go FestivalsApp API database (shared/design/go-deployment.md), as MariaDB creates it.
-- The test fixture and bench/go_import_bench.py load it into a fresh database.
SET NAMES utf8mb4;

CREATE TABLE `festivals` (
  `festival_id` int unsigned NOT NULL AUTO_INCREMENT,
  `festival_version` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  `festival_is_valid` tinyint(1) NOT NULL DEFAULT 0,
  `festival_name` varchar(255) NOT NULL,
  `festival_start` int unsigned NOT NULL DEFAULT 0,
  `festival_end` int unsigned NOT NULL DEFAULT 0,
  `festival_description` text NOT NULL,
  `festival_price` char(255) NOT NULL DEFAULT '',
  PRIMARY KEY (`festival_id`),
  UNIQUE KEY `festival_name` (`festival_name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `artists` (
  `artist_id` int unsigned NOT NULL AUTO_INCREMENT,
  `artist_version` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  `artist_name` varchar(255) NOT NULL,
  `artist_description` text NOT NULL,
  PRIMARY KEY (`artist_id`),
  KEY `artist_name` (`artist_name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `locations` (
  `location_id` int unsigned NOT NULL AUTO_INCREMENT,
  `location_version` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  `location_name` varchar(255) NOT NULL,
  `location_description` text NOT NULL,
  `location_accessible` tinyint(1) NOT NULL DEFAULT 0,
  `location_openair` tinyint(1) NOT NULL DEFAULT 0,
  PRIMARY KEY (`location_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `events` (
  `event_id` int unsigned NOT NULL AUTO_INCREMENT,
  `event_version` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  `event_name` varchar(255) NOT NULL DEFAULT '',
  `event_description` text NOT NULL,
  `event_type` tinyint NOT NULL DEFAULT 0,
  `event_start` int unsigned NOT NULL DEFAULT 0,
  `event_end` int unsigned NOT NULL DEFAULT 1,
  `event_is_scheduled` tinyint(1) NOT NULL DEFAULT 1,
  `event_has_timeslot` tinyint(1) NOT NULL DEFAULT 1,
  PRIMARY KEY (`event_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `links` (
  `link_id` int unsigned NOT NULL AUTO_INCREMENT,
  `link_version` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  `link_url` varchar(2083) NOT NULL,
  `link_service` tinyint NOT NULL DEFAULT -1,
  PRIMARY KEY (`link_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `places` (
  `place_id` int unsigned NOT NULL AUTO_INCREMENT,
  `place_version` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  `place_street` varchar(255) NOT NULL DEFAULT '',
  `place_zip` varchar(255) NOT NULL DEFAULT '',
  `place_town` varchar(255) NOT NULL DEFAULT '',
  `place_street_addition` varchar(255) NOT NULL DEFAULT '',
  `place_country` varchar(255) NOT NULL DEFAULT '',
  `place_lat` float(10,6) NOT NULL DEFAULT 0,
  `place_lon` float(10,6) NOT NULL DEFAULT 0,
  `place_description` text NOT NULL,
  PRIMARY KEY (`place_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `tags` (
  `tag_id` int unsigned NOT NULL AUTO_INCREMENT,
  `tag_name` varchar(255) NOT NULL,
  PRIMARY KEY (`tag_id`),
  UNIQUE KEY `tag_name` (`tag_name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `images` (
  `image_id` int unsigned NOT NULL AUTO_INCREMENT,
  `image_hash` char(32) NOT NULL DEFAULT '',
  `image_comment` varchar(255) NOT NULL DEFAULT '',
  `image_ref` varchar(2083) NOT NULL DEFAULT '',
  PRIMARY KEY (`image_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `map_festival_event` (
  `map_id` int unsigned NOT NULL AUTO_INCREMENT,
  `associated_festival` int unsigned NOT NULL,
  `associated_event` int unsigned NOT NULL,
  PRIMARY KEY (`map_id`),
  UNIQUE KEY `associated_event` (`associated_event`),
  KEY `associated_festival_idx` (`associated_festival`),
  KEY `associated_event_idx` (`associated_event`),
  FOREIGN KEY (`associated_festival`) REFERENCES `festivals` (`festival_id`) ON DELETE CASCADE,
  FOREIGN KEY (`associated_event`) REFERENCES `events` (`event_id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `map_festival_image` (
  `map_id` int unsigned NOT NULL AUTO_INCREMENT,
  `associated_festival` int unsigned NOT NULL,
  `associated_image` int unsigned NOT NULL,
  PRIMARY KEY (`map_id`),
  KEY `associated_festival_idx` (`associated_festival`),
  KEY `associated_image_idx` (`associated_image`),
  FOREIGN KEY (`associated_festival`) REFERENCES `festivals` (`festival_id`) ON DELETE CASCADE,
  FOREIGN KEY (`associated_image`) REFERENCES `images` (`image_id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `map_festival_link` (
  `map_id` int unsigned NOT NULL AUTO_INCREMENT,
  `associated_festival` int unsigned NOT NULL,
  `associated_link` int unsigned NOT NULL,
  PRIMARY KEY (`map_id`),
  KEY `associated_festival_idx` (`associated_festival`),
  KEY `associated_link_idx` (`associated_link`),
  FOREIGN KEY (`associated_festival`) REFERENCES `festivals` (`festival_id`) ON DELETE CASCADE,
  FOREIGN KEY (`associated_link`) REFERENCES `links` (`link_id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `map_festival_place` (
  `map_id` int unsigned NOT NULL AUTO_INCREMENT,
  `associated_festival` int unsigned NOT NULL,
  `associated_place` int unsigned NOT NULL,
  PRIMARY KEY (`map_id`),
  KEY `associated_festival_idx` (`associated_festival`),
  KEY `associated_place_idx` (`associated_place`),
  FOREIGN KEY (`associated_festival`) REFERENCES `festivals` (`festival_id`) ON DELETE CASCADE,
  FOREIGN KEY (`associated_place`) REFERENCES `places` (`place_id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `map_festival_tag` (
  `map_id` int unsigned NOT NULL AUTO_INCREMENT,
  `associated_festival` int unsigned NOT NULL,
  `associated_tag` int unsigned NOT NULL,
  PRIMARY KEY (`map_id`),
  KEY `associated_festival_idx` (`associated_festival`),
  KEY `associated_tag_idx` (`associated_tag`),
  FOREIGN KEY (`associated_festival`) REFERENCES `festivals` (`festival_id`) ON DELETE CASCADE,
  FOREIGN KEY (`associated_tag`) REFERENCES `tags` (`tag_id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `map_artist_image` (
  `map_id` int unsigned NOT NULL AUTO_INCREMENT,
  `associated_artist` int unsigned NOT NULL,
  `associated_image` int unsigned NOT NULL,
  PRIMARY KEY (`map_id`),
  KEY `associated_artist_idx` (`associated_artist`),
  KEY `associated_image_idx` (`associated_image`),
  FOREIGN KEY (`associated_artist`) REFERENCES `artists` (`artist_id`) ON DELETE CASCADE,
  FOREIGN KEY (`associated_image`) REFERENCES `images` (`image_id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `map_artist_link` (
  `map_id` int unsigned NOT NULL AUTO_INCREMENT,
  `associated_artist` int unsigned NOT NULL,
  `associated_link` int unsigned NOT NULL,
  PRIMARY KEY (`map_id`),
  KEY `associated_artist_idx` (`associated_artist`),
  KEY `associated_link_idx` (`associated_link`),
  FOREIGN KEY (`associated_artist`) REFERENCES `artists` (`artist_id`) ON DELETE CASCADE,
  FOREIGN KEY (`associated_link`) REFERENCES `links` (`link_id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `map_artist_tag` (
  `map_id` int unsigned NOT NULL AUTO_INCREMENT,
  `associated_artist` int unsigned NOT NULL,
  `associated_tag` int unsigned NOT NULL,
  PRIMARY KEY (`map_id`),
  KEY `associated_artist_idx` (`associated_artist`),
  KEY `associated_tag_idx` (`associated_tag`),
  FOREIGN KEY (`associated_artist`) REFERENCES `artists` (`artist_id`) ON DELETE CASCADE,
  FOREIGN KEY (`associated_tag`) REFERENCES `tags` (`tag_id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `map_location_image` (
  `map_id` int unsigned NOT NULL AUTO_INCREMENT,
  `associated_location` int unsigned NOT NULL,
  `associated_image` int unsigned NOT NULL,
  PRIMARY KEY (`map_id`),
  KEY `associated_location_idx` (`associated_location`),
  KEY `associated_image_idx` (`associated_image`),
  FOREIGN KEY (`associated_location`) REFERENCES `locations` (`location_id`) ON DELETE CASCADE,
  FOREIGN KEY (`associated_image`) REFERENCES `images` (`image_id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `map_location_link` (
  `map_id` int unsigned NOT NULL AUTO_INCREMENT,
  `associated_location` int unsigned NOT NULL,
  `associated_link` int unsigned NOT NULL,
  PRIMARY KEY (`map_id`),
  KEY `associated_location_idx` (`associated_location`),
  KEY `associated_link_idx` (`associated_link`),
  FOREIGN KEY (`associated_location`) REFERENCES `locations` (`location_id`) ON DELETE CASCADE,
  FOREIGN KEY (`associated_link`) REFERENCES `links` (`link_id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `map_location_place` (
  `map_id` int unsigned NOT NULL AUTO_INCREMENT,
  `associated_location` int unsigned NOT NULL,
  `associated_place` int unsigned NOT NULL,
  PRIMARY KEY (`map_id`),
  KEY `associated_location_idx` (`associated_location`),
  KEY `associated_place_idx` (`associated_place`),
  FOREIGN KEY (`associated_location`) REFERENCES `locations` (`location_id`) ON DELETE CASCADE,
  FOREIGN KEY (`associated_place`) REFERENCES `places` (`place_id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `map_event_image` (
  `map_id` int unsigned NOT NULL AUTO_INCREMENT,
  `associated_event` int unsigned NOT NULL,
  `associated_image` int unsigned NOT NULL,
  PRIMARY KEY (`map_id`),
  KEY `associated_event_idx` (`associated_event`),
  KEY `associated_image_idx` (`associated_image`),
  FOREIGN KEY (`associated_event`) REFERENCES `events` (`event_id`) ON DELETE CASCADE,
  FOREIGN KEY (`associated_image`) REFERENCES `images` (`image_id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `map_event_artist` (
  `map_id` int unsigned NOT NULL AUTO_INCREMENT,
  `associated_event` int unsigned NOT NULL,
  `associated_artist` int unsigned NOT NULL,
  PRIMARY KEY (`map_id`),
  KEY `associated_event_idx` (`associated_event`),
  KEY `associated_artist_idx` (`associated_artist`),
  FOREIGN KEY (`associated_event`) REFERENCES `events` (`event_id`) ON DELETE CASCADE,
  FOREIGN KEY (`associated_artist`) REFERENCES `artists` (`artist_id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `map_event_location` (
  `map_id` int unsigned NOT NULL AUTO_INCREMENT,
  `associated_event` int unsigned NOT NULL,
  `associated_location` int unsigned NOT NULL,
  PRIMARY KEY (`map_id`),
  KEY `associated_event_idx` (`associated_event`),
  KEY `associated_location_idx` (`associated_location`),
  FOREIGN KEY (`associated_event`) REFERENCES `events` (`event_id`) ON DELETE CASCADE,
  FOREIGN KEY (`associated_location`) REFERENCES `locations` (`location_id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
