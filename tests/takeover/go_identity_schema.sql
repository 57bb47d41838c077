-- The Go FestivalsApp identity database (shared/design/go-deployment.md).
SET NAMES utf8mb4;

CREATE TABLE `users` (
  `user_id` int unsigned NOT NULL AUTO_INCREMENT,
  `user_email` varchar(255) NOT NULL,
  `user_password` varchar(255) NOT NULL,
  `user_createdat` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `user_updatedat` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  `user_role` tinyint NOT NULL DEFAULT 0,
  PRIMARY KEY (`user_id`),
  UNIQUE KEY `user_email` (`user_email`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `api_keys` (
  `api_key_id` int unsigned NOT NULL AUTO_INCREMENT,
  `api_key` varchar(255) NOT NULL,
  `api_key_comment` varchar(255) NOT NULL DEFAULT '',
  PRIMARY KEY (`api_key_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `service_keys` (
  `service_key_id` int unsigned NOT NULL AUTO_INCREMENT,
  `service_key` varchar(255) NOT NULL,
  `service_key_comment` varchar(255) NOT NULL DEFAULT '',
  PRIMARY KEY (`service_key_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `map_festival_user` (
  `map_id` int unsigned NOT NULL AUTO_INCREMENT,
  `associated_festival` int unsigned NOT NULL,
  `associated_user` int unsigned NOT NULL,
  PRIMARY KEY (`map_id`),
  KEY `associated_festival_idx` (`associated_festival`),
  FOREIGN KEY (`associated_user`) REFERENCES `users` (`user_id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `map_artist_user` (
  `map_id` int unsigned NOT NULL AUTO_INCREMENT,
  `associated_artist` int unsigned NOT NULL,
  `associated_user` int unsigned NOT NULL,
  PRIMARY KEY (`map_id`),
  KEY `associated_artist_idx` (`associated_artist`),
  FOREIGN KEY (`associated_user`) REFERENCES `users` (`user_id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `map_location_user` (
  `map_id` int unsigned NOT NULL AUTO_INCREMENT,
  `associated_location` int unsigned NOT NULL,
  `associated_user` int unsigned NOT NULL,
  PRIMARY KEY (`map_id`),
  KEY `associated_location_idx` (`associated_location`),
  FOREIGN KEY (`associated_user`) REFERENCES `users` (`user_id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `map_event_user` (
  `map_id` int unsigned NOT NULL AUTO_INCREMENT,
  `associated_event` int unsigned NOT NULL,
  `associated_user` int unsigned NOT NULL,
  PRIMARY KEY (`map_id`),
  KEY `associated_event_idx` (`associated_event`),
  FOREIGN KEY (`associated_user`) REFERENCES `users` (`user_id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `map_link_user` (
  `map_id` int unsigned NOT NULL AUTO_INCREMENT,
  `associated_link` int unsigned NOT NULL,
  `associated_user` int unsigned NOT NULL,
  PRIMARY KEY (`map_id`),
  KEY `associated_link_idx` (`associated_link`),
  FOREIGN KEY (`associated_user`) REFERENCES `users` (`user_id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `map_image_user` (
  `map_id` int unsigned NOT NULL AUTO_INCREMENT,
  `associated_image` int unsigned NOT NULL,
  `associated_user` int unsigned NOT NULL,
  PRIMARY KEY (`map_id`),
  KEY `associated_image_idx` (`associated_image`),
  FOREIGN KEY (`associated_user`) REFERENCES `users` (`user_id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `map_place_user` (
  `map_id` int unsigned NOT NULL AUTO_INCREMENT,
  `associated_place` int unsigned NOT NULL,
  `associated_user` int unsigned NOT NULL,
  PRIMARY KEY (`map_id`),
  KEY `associated_place_idx` (`associated_place`),
  FOREIGN KEY (`associated_user`) REFERENCES `users` (`user_id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `map_tag_user` (
  `map_id` int unsigned NOT NULL AUTO_INCREMENT,
  `associated_tag` int unsigned NOT NULL,
  `associated_user` int unsigned NOT NULL,
  PRIMARY KEY (`map_id`),
  KEY `associated_tag_idx` (`associated_tag`),
  FOREIGN KEY (`associated_user`) REFERENCES `users` (`user_id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
