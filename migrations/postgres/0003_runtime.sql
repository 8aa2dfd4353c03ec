-- The orchestration runtime: the trip event log (source of truth), its
-- read model and snapshots, the agent task queue with its results, and the
-- hub's durable messages.

CREATE TABLE trip_events (
    trip_id  UUID NOT NULL,
    seq      BIGINT NOT NULL,            -- 1, 2, … per trip; the optimistic lock
    kind     TEXT NOT NULL,
    payload  JSONB NOT NULL,             -- tagged with `kind`
    at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (trip_id, seq)
);

-- The read model (CQRS): one row per trip, updated with every append.
CREATE TABLE trip_state (
    trip_id     UUID PRIMARY KEY,
    status      TEXT NOT NULL,           -- planning|needs_input|ready|failed|cancelled
    progress    DOUBLE PRECISION NOT NULL,
    version     BIGINT NOT NULL,
    state       JSONB NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX trip_state_status ON trip_state (status, updated_at);

CREATE TABLE trip_snapshots (
    trip_id   UUID NOT NULL,
    version   BIGINT NOT NULL,
    state     JSONB NOT NULL,
    taken_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (trip_id, version)
);

CREATE TABLE agent_tasks (
    task_id           UUID PRIMARY KEY,
    position          BIGINT GENERATED ALWAYS AS IDENTITY,  -- enqueue order
    trip_id           UUID NOT NULL,
    agent_type        TEXT NOT NULL,
    priority          SMALLINT NOT NULL CHECK (priority BETWEEN 0 AND 3),
    status            TEXT NOT NULL,     -- pending|running|completed|failed|skipped
    attempts          INTEGER NOT NULL DEFAULT 0,
    lease_owner       TEXT,
    lease_expires_at  TIMESTAMPTZ,
    available_at      TIMESTAMPTZ NOT NULL,  -- a retry waits for its backoff
    depends_on        UUID[] NOT NULL DEFAULT '{}',
    last_error        TEXT,
    created_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX agent_tasks_claim ON agent_tasks (status, agent_type, priority, position);
CREATE INDEX agent_tasks_trip ON agent_tasks (trip_id);

-- Written in the same transaction that marks the task completed, so a
-- result is stored before any dependent can be claimed.
CREATE TABLE agent_results (
    task_id       UUID PRIMARY KEY REFERENCES agent_tasks (task_id),
    trip_id       UUID NOT NULL,
    result        JSONB NOT NULL,
    completed_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE hub_messages (
    message_id        TEXT PRIMARY KEY,
    position          BIGINT GENERATED ALWAYS AS IDENTITY,  -- replay order
    destination_kind  TEXT NOT NULL,     -- agent|queue
    destination       TEXT NOT NULL,
    message           JSONB NOT NULL,    -- the design's message format
    status            TEXT NOT NULL,     -- pending|delivered|acked
    created_at        TIMESTAMPTZ NOT NULL,
    delivered_at      TIMESTAMPTZ,
    acked_at          TIMESTAMPTZ
);
CREATE INDEX hub_messages_unacked ON hub_messages (status, destination_kind, destination);
