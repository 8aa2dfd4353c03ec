-- Fencing: every claim of a task takes a new epoch (`claim_epoch`, one
-- more per claim, never reset — unlike `attempts`, which an operator's
-- retry resets). The holder's completion, failure and skip name the epoch
-- they speak for; once the task has been claimed again (the holder was
-- paused or cut off past its lease) they are refused, and nothing of the
-- append they came with is kept. Rows from before this migration start at
-- epoch 0; their next claim takes 1.
ALTER TABLE agent_tasks ADD COLUMN claim_epoch BIGINT NOT NULL DEFAULT 0;

-- The check an append statement makes first when its queue write speaks
-- for a claim: it locks the task's row (a claim being made waits, one made
-- since is seen) and fails the statement (SQLSTATE WF412), which undoes
-- its other writes, when the task has a newer claim.
CREATE FUNCTION wayfare_fence(task UUID, epoch BIGINT) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    latest BIGINT;
BEGIN
    SELECT claim_epoch INTO latest FROM agent_tasks WHERE task_id = task FOR UPDATE;
    IF FOUND AND latest <> epoch THEN
        RAISE EXCEPTION 'agent_tasks: task % was claimed again since (epoch % after %)',
            task, latest, epoch USING ERRCODE = 'WF412';
    END IF;
    RETURN 0;
END;
$$;

-- Events across processes: every statement that appends to the log
-- announces it on the channel `wayfare_events`, one notification per trip:
-- `<trip id> <last seq> <application_name of the writer>` (a pointer, far
-- under NOTIFY's 8000-byte limit; the log stays the source of truth). A
-- notification is delivered when its transaction commits, so no append
-- that was rolled back is announced. Each `wayfare` process names its
-- connections uniquely and skips its own notifications.
--
-- A process alone on the database has nobody to tell, and a NOTIFY is not
-- free: PostgreSQL serialises the commits of the transactions that sent
-- one (a database-wide lock held through the commit). So nothing is sent
-- while `runtime_nodes` (migration 0007: every live process stamps its
-- row, the first time before it serves) lists fewer than two processes.
CREATE FUNCTION trip_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    appended RECORD;
BEGIN
    IF (SELECT COUNT(*) FROM (SELECT 1 FROM runtime_nodes LIMIT 2) AS alive) < 2 THEN
        RETURN NULL;
    END IF;
    FOR appended IN SELECT trip_id, MAX(seq) AS seq FROM new_events GROUP BY trip_id LOOP
        PERFORM pg_notify('wayfare_events',
            appended.trip_id::text || ' ' || appended.seq || ' '
            || current_setting('application_name'));
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE TRIGGER trip_events_notify AFTER INSERT ON trip_events
REFERENCING NEW TABLE AS new_events
FOR EACH STATEMENT EXECUTE FUNCTION trip_events_notify();
