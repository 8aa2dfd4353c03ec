-- The agent registry shared by every `wayfare` process on this database:
-- each process replaces its own rows every heartbeat, stamped with the database's clock, so that `/api/agents` on
-- any process lists every instance of every process with its host, pid,
-- status and heartbeat age. A process that stops stamping is shown
-- offline after the node timeout and forgotten after ten minutes. A view
-- for operators: dispatch keeps each process's own registry in memory.
-- Instance ids (`transport-1`) are per process, hence the key.
CREATE TABLE agent_instances (
    node_id              TEXT NOT NULL,
    agent_id             TEXT NOT NULL,
    agent_type           TEXT NOT NULL,
    host                 TEXT NOT NULL,
    pid                  BIGINT NOT NULL,
    status               TEXT NOT NULL,
    current_load         BIGINT NOT NULL,
    max_capacity         BIGINT NOT NULL,
    response_time_avg_ms DOUBLE PRECISION NOT NULL,
    cost_per_request     DOUBLE PRECISION NOT NULL,
    successes            BIGINT NOT NULL,
    failures             BIGINT NOT NULL,
    breaker              TEXT NOT NULL,
    seen_at              TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (node_id, agent_id)
);
