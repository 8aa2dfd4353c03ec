-- A trip request as a person typed it.
CREATE TABLE trip_requests (
    id          TEXT PRIMARY KEY NOT NULL,   -- UUID v4, hyphenated
    query       TEXT NOT NULL,
    created_at  TEXT NOT NULL                -- RFC 3339, UTC
);
CREATE INDEX trip_requests_created_at ON trip_requests (created_at);
