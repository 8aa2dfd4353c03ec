-- Fencing: every claim of a task takes a new epoch (`claim_epoch`, one
-- more per claim, never reset — unlike `attempts`, which an operator's
-- retry resets). The holder's completion, failure and skip name the epoch
-- they speak for; once the task has been claimed again (the holder was
-- paused or cut off past its lease) they are refused, and nothing of the
-- append they came with is kept. Rows from before this migration start at
-- epoch 0; their next claim takes 1.
ALTER TABLE agent_tasks ADD COLUMN claim_epoch INTEGER NOT NULL DEFAULT 0;

-- The check an append's script runs first when its queue write speaks for
-- a claim: `INSERT INTO task_fence (task_id, epoch) VALUES (…)` fails the
-- script (and so undoes it) when the task has a newer claim. A view with
-- an INSTEAD OF trigger, since SQLite raises errors only in triggers; it
-- stores nothing.
CREATE VIEW task_fence (task_id, epoch) AS SELECT NULL, NULL WHERE 0;

CREATE TRIGGER task_fence_check INSTEAD OF INSERT ON task_fence
BEGIN
    SELECT RAISE(ABORT, 'wayfare: fenced: the task was claimed again since')
    WHERE EXISTS (
        SELECT 1 FROM agent_tasks
        WHERE task_id = NEW.task_id AND claim_epoch <> NEW.epoch);
END;
