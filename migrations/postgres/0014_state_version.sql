-- The read model's JSON (`trip_state.state`) is written when a trip's
-- status is other than planning and, while it plans, every eighth version
-- (see the store's `events.rs`); the other appends update only its
-- columns. `state_version` is the version the JSON is at: a reader folds
-- the log's events after it. Rows written before this are whole.
ALTER TABLE trip_state ADD COLUMN state_version BIGINT;
UPDATE trip_state SET state_version = version;
ALTER TABLE trip_state ALTER COLUMN state_version SET NOT NULL;
