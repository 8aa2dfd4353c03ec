-- The agent registry shared by the processes on a database (see the
-- PostgreSQL migration of the same number). On SQLite one process uses a
-- file, so it lists that process's instances (and, for ten minutes, a
-- predecessor's, shown offline); the table is the same so that the code
-- reading it is too.
CREATE TABLE agent_instances (
    node_id              TEXT NOT NULL,
    agent_id             TEXT NOT NULL,
    agent_type           TEXT NOT NULL,
    host                 TEXT NOT NULL,
    pid                  INTEGER NOT NULL,
    status               TEXT NOT NULL,
    current_load         INTEGER NOT NULL,
    max_capacity         INTEGER NOT NULL,
    response_time_avg_ms REAL NOT NULL,
    cost_per_request     REAL NOT NULL,
    successes            INTEGER NOT NULL,
    failures             INTEGER NOT NULL,
    breaker              TEXT NOT NULL,
    seen_at              TEXT NOT NULL,
    PRIMARY KEY (node_id, agent_id)
);
