-- Which `wayfare` processes sharing this database are alive. Each stamps
-- its row with the database's clock every heartbeat; a process silent for
-- a few heartbeats is gone, and the tasks it leased are released at once
-- instead of when their 30 s leases run out (the lease stays the rule for
-- a live process's hung instance). SQLite needs no such table: one process
-- uses a file, and it releases its predecessor's leases when it starts.
CREATE TABLE runtime_nodes (
    node_id     TEXT PRIMARY KEY,
    started_at  TIMESTAMPTZ NOT NULL,
    seen_at     TIMESTAMPTZ NOT NULL
);
-- A dead process's running tasks, found without a scan.
CREATE INDEX agent_tasks_running_owner ON agent_tasks (lease_owner) WHERE status = 'running';
