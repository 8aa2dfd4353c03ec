-- The queue's bookkeeping happens inside the statements that cause it, so
-- that completing a task is one statement instead of three: SQLite's one
-- writer pays a round trip to its worker thread per statement, and that
-- round trip, not the work, is what bounds the planning rate.
-- (PostgreSQL makes the same writes from the store's code.)

-- Storing a task's result completes it. A second result for the same
-- task is refused by the primary key (`ON CONFLICT DO NOTHING` in the
-- store), so the first one stands and this does not run again.
CREATE TRIGGER agent_results_complete AFTER INSERT ON agent_results
BEGIN
    UPDATE agent_tasks SET status = 'completed', lease_owner = NULL,
        lease_expires_at = NULL, last_error = NULL
    WHERE task_id = NEW.task_id AND status != 'completed';
END;

-- A task that is done (completed, or skipped by degradation) makes each
-- task of its trip whose dependencies are now all done ready to claim.
CREATE TRIGGER agent_tasks_promote AFTER UPDATE OF status ON agent_tasks
WHEN NEW.status IN ('completed', 'skipped') AND OLD.status != NEW.status
BEGIN
    UPDATE agent_tasks SET deps_done = 1
    WHERE trip_id = NEW.trip_id AND status = 'pending' AND deps_done = 0
      AND NOT EXISTS (
          SELECT 1 FROM json_each(agent_tasks.depends_on) d
          LEFT JOIN agent_tasks p ON p.task_id = d.value
          WHERE p.status IS NULL OR p.status NOT IN ('completed', 'skipped'));
END;

-- The log has no gaps: an event's `seq` must follow the trip's last one.
-- With the primary key (no `seq` twice) this is the append's optimistic
-- check: a writer that decided on a stale version cannot insert its first
-- event, whatever it does to the read model after.
CREATE TRIGGER trip_events_gapless BEFORE INSERT ON trip_events
WHEN NEW.seq > 1 AND NOT EXISTS (
    SELECT 1 FROM trip_events WHERE trip_id = NEW.trip_id AND seq = NEW.seq - 1)
BEGIN
    SELECT RAISE(ABORT, 'trip_events: seq does not follow the trip''s last event');
END;
