-- A person's rating of a trip (the design's user-satisfaction metric):
-- 1 to 5 stars and an optional note. One per trip; rating again replaces
-- it. The bounds are `wayfare_domain::rating::Rating`'s, kept here too.
CREATE TABLE trip_ratings (
    trip_id   TEXT PRIMARY KEY NOT NULL,     -- UUID v4, hyphenated
    stars     INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
    note      TEXT CHECK (note IS NULL OR length(note) <= 1000),  -- characters
    rated_at  TEXT NOT NULL                  -- RFC 3339 UTC, fixed width
);
