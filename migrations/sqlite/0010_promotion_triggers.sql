-- Readiness in one place: the database sets `deps_done`, the same way on
-- SQLite and PostgreSQL (there, migration 0010 adds the same triggers).
-- Migration 0006 promotes a trip's tasks when one of them completes or is
-- skipped; these cover the two other ways a task becomes pending and not
-- ready, which the store used to follow with its own UPDATE: enqueued
-- (its dependencies may all be done already, or it has none), and put
-- back by a requeue (`deps_done` reset).
CREATE TRIGGER agent_tasks_promote_enqueued AFTER INSERT ON agent_tasks
WHEN NEW.status = 'pending' AND NEW.deps_done = 0
BEGIN
    UPDATE agent_tasks SET deps_done = 1
    WHERE task_id = NEW.task_id
      AND NOT EXISTS (
          SELECT 1 FROM json_each(NEW.depends_on) d
          LEFT JOIN agent_tasks p ON p.task_id = d.value
          WHERE p.status IS NULL OR p.status NOT IN ('completed', 'skipped'));
END;

CREATE TRIGGER agent_tasks_promote_requeued AFTER UPDATE OF status, deps_done ON agent_tasks
WHEN NEW.status = 'pending' AND NEW.deps_done = 0
 AND (OLD.status != 'pending' OR OLD.deps_done != 0)
BEGIN
    UPDATE agent_tasks SET deps_done = 1
    WHERE task_id = NEW.task_id
      AND NOT EXISTS (
          SELECT 1 FROM json_each(NEW.depends_on) d
          LEFT JOIN agent_tasks p ON p.task_id = d.value
          WHERE p.status IS NULL OR p.status NOT IN ('completed', 'skipped'));
END;
