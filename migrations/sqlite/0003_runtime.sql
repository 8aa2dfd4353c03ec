-- The orchestration runtime: the trip event log (source of truth), its
-- read model and snapshots, the agent task queue with its results, and the
-- hub's durable messages. Timestamps are RFC 3339 UTC text with a fixed
-- width (microseconds), so that they compare correctly as strings.

CREATE TABLE trip_events (
    trip_id  TEXT NOT NULL,              -- UUID v4, hyphenated
    seq      INTEGER NOT NULL,           -- 1, 2, … per trip; the optimistic lock
    kind     TEXT NOT NULL,
    payload  TEXT NOT NULL,              -- JSON, tagged with `kind`
    at       TEXT NOT NULL,
    PRIMARY KEY (trip_id, seq)
);

-- The read model (CQRS): one row per trip, updated with every append.
CREATE TABLE trip_state (
    trip_id     TEXT PRIMARY KEY NOT NULL,
    status      TEXT NOT NULL,           -- planning|needs_input|ready|failed|cancelled
    progress    REAL NOT NULL,
    version     INTEGER NOT NULL,
    state       TEXT NOT NULL,           -- JSON TripState
    updated_at  TEXT NOT NULL
);
CREATE INDEX trip_state_status ON trip_state (status, updated_at);

CREATE TABLE trip_snapshots (
    trip_id   TEXT NOT NULL,
    version   INTEGER NOT NULL,
    state     TEXT NOT NULL,
    taken_at  TEXT NOT NULL,
    PRIMARY KEY (trip_id, version)
);

CREATE TABLE agent_tasks (
    task_id           TEXT PRIMARY KEY NOT NULL,
    trip_id           TEXT NOT NULL,
    agent_type        TEXT NOT NULL,
    priority          INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 3),
    status            TEXT NOT NULL,     -- pending|running|completed|failed|skipped
    attempts          INTEGER NOT NULL DEFAULT 0,
    lease_owner       TEXT,
    lease_expires_at  TEXT,
    available_at      TEXT NOT NULL,     -- a retry waits for its backoff
    depends_on        TEXT NOT NULL DEFAULT '[]',  -- JSON array of task ids
    last_error        TEXT,
    created_at        TEXT NOT NULL
);
CREATE INDEX agent_tasks_claim ON agent_tasks (status, agent_type, priority);
CREATE INDEX agent_tasks_trip ON agent_tasks (trip_id);

-- Written in the same transaction that marks the task completed, so a
-- result is stored before any dependent can be claimed.
CREATE TABLE agent_results (
    task_id       TEXT PRIMARY KEY NOT NULL REFERENCES agent_tasks (task_id),
    trip_id       TEXT NOT NULL,
    result        TEXT NOT NULL,         -- JSON
    completed_at  TEXT NOT NULL
);

CREATE TABLE hub_messages (
    message_id        TEXT PRIMARY KEY NOT NULL,
    destination_kind  TEXT NOT NULL,     -- agent|queue
    destination       TEXT NOT NULL,
    message           TEXT NOT NULL,     -- JSON, the design's message format
    status            TEXT NOT NULL,     -- pending|delivered|acked
    created_at        TEXT NOT NULL,
    delivered_at      TEXT,
    acked_at          TEXT
);
CREATE INDEX hub_messages_unacked ON hub_messages (status, destination_kind, destination);
