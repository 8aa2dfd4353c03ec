-- Who made a trip: the anonymous session (a random value in the browser's
-- cookie) that submitted it, so that a browser can list "My trips". A trip
-- keeps its first owner. `created_at` orders a session's trips, newest
-- first (ties by rowid: the order recorded).
CREATE TABLE trip_owners (
    trip_id     TEXT PRIMARY KEY NOT NULL,   -- UUID v4, hyphenated
    owner       TEXT NOT NULL,
    created_at  TEXT NOT NULL                -- RFC 3339 UTC, fixed width
);
CREATE INDEX trip_owners_owner ON trip_owners (owner, created_at);
