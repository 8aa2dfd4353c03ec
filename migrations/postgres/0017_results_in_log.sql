-- A task's result is stored once. The append that logs a task's
-- `task_completed` event completes its queue row in the same transaction;
-- that `agent_results` row now names the event (`event_seq`, in the trip's
-- log) instead of holding a second copy of the result, 2–3 KB a task. A
-- result stored without its event (the queue catching up with the log
-- after a crash, an audit's repair) keeps its JSON in `result`. Exactly
-- one of the two is set.
ALTER TABLE agent_results
    ALTER COLUMN result DROP NOT NULL,
    ADD COLUMN event_seq BIGINT,
    ADD CONSTRAINT agent_results_one_copy CHECK ((result IS NULL) <> (event_seq IS NULL));
