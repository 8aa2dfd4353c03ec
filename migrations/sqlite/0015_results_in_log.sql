-- A task's result is stored once. The append that logs a task's
-- `task_completed` event completes its queue row in the same transaction;
-- that `agent_results` row now names the event (`event_seq`, in the trip's
-- log) instead of holding a second copy of the result, 2–3 KB a task. A
-- result stored without its event (the queue catching up with the log
-- after a crash, an audit's repair) keeps its JSON in `result`. Exactly
-- one of the two is set.
--
-- SQLite cannot relax a NOT NULL in place: the table is made anew, with
-- the trigger of migration 0006 that completes the task.
CREATE TABLE agent_results_new (
    task_id       TEXT PRIMARY KEY NOT NULL REFERENCES agent_tasks (task_id),
    trip_id       TEXT NOT NULL,
    result        TEXT,                  -- JSON, when not in the log
    completed_at  TEXT NOT NULL,
    event_seq     INTEGER,               -- its `task_completed` event's seq
    CHECK ((result IS NULL) <> (event_seq IS NULL))
);
INSERT INTO agent_results_new (task_id, trip_id, result, completed_at)
    SELECT task_id, trip_id, result, completed_at FROM agent_results;
DROP TABLE agent_results;
ALTER TABLE agent_results_new RENAME TO agent_results;

CREATE TRIGGER agent_results_complete AFTER INSERT ON agent_results
BEGIN
    UPDATE agent_tasks SET status = 'completed', lease_owner = NULL,
        lease_expires_at = NULL, last_error = NULL
    WHERE task_id = NEW.task_id AND status != 'completed';
END;
