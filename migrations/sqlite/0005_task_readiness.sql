-- A task's readiness is kept, not recomputed by every claim: `deps_done`
-- turns 1 in the transaction that completes or skips the last task it
-- depends on, so a claim is an index lookup instead of a scan of every
-- pending task's dependencies.
ALTER TABLE agent_tasks ADD COLUMN deps_done INTEGER NOT NULL DEFAULT 0;
UPDATE agent_tasks SET deps_done = 1
WHERE NOT EXISTS (
    SELECT 1 FROM json_each(agent_tasks.depends_on) d
    LEFT JOIN agent_tasks p ON p.task_id = d.value
    WHERE p.status IS NULL OR p.status NOT IN ('completed', 'skipped'));
DROP INDEX agent_tasks_claim;
CREATE INDEX agent_tasks_claim ON agent_tasks (status, deps_done, agent_type, priority);
