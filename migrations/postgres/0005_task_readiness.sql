-- A task's readiness is kept, not recomputed by every claim: `deps_done`
-- turns true in the transaction that completes or skips the last task it
-- depends on, so a claim is an index lookup instead of a scan of every
-- pending task's dependencies.
ALTER TABLE agent_tasks ADD COLUMN deps_done BOOLEAN NOT NULL DEFAULT false;
UPDATE agent_tasks a SET deps_done = true
WHERE NOT EXISTS (
    SELECT 1 FROM unnest(a.depends_on) AS d(id)
    LEFT JOIN agent_tasks p ON p.task_id = d.id
    WHERE p.status IS NULL OR p.status NOT IN ('completed', 'skipped'));
DROP INDEX agent_tasks_claim;
CREATE INDEX agent_tasks_claim ON agent_tasks (status, deps_done, agent_type, priority, position);
