-- The queue's indexes by what reads them (see the PostgreSQL migration of
-- the same number). `agent_tasks_claim` led with (status, deps_done), so a
-- promotion (`WHERE trip_id = ? AND status = 'pending' AND deps_done = 0`,
-- the triggers of migrations 0006 and 0010) was planned on it, two
-- equality terms against the trip index's one, and read every waiting
-- task of every trip in flight to find its own trip's few. Claims read
-- only ready tasks and expired leases: each now has a partial index that
-- holds just those rows, and a promotion reads its trip's tasks.
DROP INDEX agent_tasks_claim;
CREATE INDEX agent_tasks_ready ON agent_tasks (agent_type, priority)
    WHERE status = 'pending' AND deps_done = 1;
CREATE INDEX agent_tasks_leased ON agent_tasks (lease_expires_at)
    WHERE status = 'running';
