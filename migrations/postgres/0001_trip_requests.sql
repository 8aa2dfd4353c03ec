-- A trip request as a person typed it.
CREATE TABLE trip_requests (
    id          UUID PRIMARY KEY,
    query       TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX trip_requests_created_at ON trip_requests (created_at);
