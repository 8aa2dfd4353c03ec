-- Readiness in one place: the database sets `deps_done`, with the same
-- triggers as SQLite's (migrations 0006 and 0010 there), where the store
-- used to follow every write with its own statements. One write is one
-- statement:
--   * storing a task's result (`agent_results`) completes the task;
--   * a task that completes or is skipped makes each pending task of its
--     trip whose dependencies are now all done ready;
--   * a task enqueued, or put back as pending and not ready (a requeue),
--     is ready at once when its dependencies are all done.
--
-- Concurrency: two transactions finishing two tasks of one trip would
-- each miss the other's uncommitted status and leave a dependent of both
-- unready, and a task enqueued beside a dependency's completion likewise.
-- Every promotion first takes the trip's transaction-level advisory lock
-- (the key the store's other trip-wide writes use), so they take turns,
-- and the statement after the lock sees the other's commit.

CREATE FUNCTION wayfare_lock_trip(trip UUID) RETURNS void LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(hashtextextended(trip::text, 0));
$$;

CREATE FUNCTION agent_results_complete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE agent_tasks SET status = 'completed', lease_owner = NULL,
        lease_expires_at = NULL, last_error = NULL
    WHERE task_id = NEW.task_id AND status <> 'completed';
    RETURN NULL;
END;
$$;

CREATE TRIGGER agent_results_complete AFTER INSERT ON agent_results
FOR EACH ROW EXECUTE FUNCTION agent_results_complete();

CREATE FUNCTION agent_tasks_promote() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM wayfare_lock_trip(NEW.trip_id);
    UPDATE agent_tasks a SET deps_done = true
    WHERE a.trip_id = NEW.trip_id AND a.status = 'pending' AND NOT a.deps_done
      AND NOT EXISTS (
          SELECT 1 FROM unnest(a.depends_on) AS d(id)
          LEFT JOIN agent_tasks p ON p.task_id = d.id
          WHERE p.status IS NULL OR p.status NOT IN ('completed', 'skipped'));
    RETURN NULL;
END;
$$;

CREATE TRIGGER agent_tasks_promote AFTER UPDATE OF status ON agent_tasks
FOR EACH ROW WHEN (NEW.status IN ('completed', 'skipped') AND OLD.status <> NEW.status)
EXECUTE FUNCTION agent_tasks_promote();

CREATE FUNCTION agent_tasks_promote_one() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM wayfare_lock_trip(NEW.trip_id);
    UPDATE agent_tasks SET deps_done = true
    WHERE task_id = NEW.task_id
      AND NOT EXISTS (
          SELECT 1 FROM unnest(NEW.depends_on) AS d(id)
          LEFT JOIN agent_tasks p ON p.task_id = d.id
          WHERE p.status IS NULL OR p.status NOT IN ('completed', 'skipped'));
    RETURN NULL;
END;
$$;

CREATE TRIGGER agent_tasks_promote_enqueued AFTER INSERT ON agent_tasks
FOR EACH ROW WHEN (NEW.status = 'pending' AND NOT NEW.deps_done)
EXECUTE FUNCTION agent_tasks_promote_one();

CREATE TRIGGER agent_tasks_promote_requeued AFTER UPDATE OF status, deps_done ON agent_tasks
FOR EACH ROW WHEN (NEW.status = 'pending' AND NOT NEW.deps_done
    AND (OLD.status <> 'pending' OR OLD.deps_done))
EXECUTE FUNCTION agent_tasks_promote_one();

-- An append is one statement (see the store's `events.rs`): its writes are
-- data-modifying CTEs, and the read model's is made only at the version
-- the writer decided on. When that matched no row, the statement calls
-- this, which fails it (SQLSTATE WF409: the log moved on) and so undoes
-- the statement's other writes.
CREATE FUNCTION wayfare_refuse_stale() RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'trip_state: the trip is not at the version the append expected'
        USING ERRCODE = 'WF409';
END;
$$;
