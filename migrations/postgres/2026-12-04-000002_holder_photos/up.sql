-- A holder's photo for the public page of their credentials, stored as
-- domain::photo::normalise makes it (JPEG, at most 320 px, no metadata),
-- shown to others only while `public` (the holder's consent) is true.
CREATE TABLE holder_photos (
    person_id BIGINT PRIMARY KEY NOT NULL REFERENCES people(id),
    jpeg BYTEA NOT NULL,
    public BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMP NOT NULL
);
