DROP TABLE holder_photos;
