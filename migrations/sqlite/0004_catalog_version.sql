-- One row: bumped by every catalog import, so running servers notice a new
-- catalog and reload their in-memory indexes (and drop cached plans).
CREATE TABLE catalog_version (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    version     BIGINT NOT NULL,
    imported_at TEXT NOT NULL
);
INSERT INTO catalog_version (id, version, imported_at) VALUES (1, 0, '1970-01-01T00:00:00Z');
