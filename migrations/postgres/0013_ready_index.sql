-- The queue's indexes by what reads them. `agent_tasks_claim` led with
-- (status, deps_done), and every update of a task (claim, completion,
-- promotion: none is HOT, each changes an indexed column) left an entry in
-- it. A promotion (`WHERE trip_id = ? AND status = 'pending' AND NOT
-- deps_done`, the triggers of migration 0010) was planned as a BitmapAnd
-- of the trip index and this one, and read thousands of entries, live and
-- dead, for its trip's few rows: under load, 9 ms of the database's CPU
-- per completed task. Claims read only ready tasks and expired leases:
-- each now has a partial index holding just those rows (an entry is made
-- only for a row version inside the predicate), and a promotion reads its
-- trip's tasks by the trip index.
DROP INDEX agent_tasks_claim;
CREATE INDEX agent_tasks_ready ON agent_tasks (agent_type, priority, position)
    WHERE status = 'pending' AND deps_done;
CREATE INDEX agent_tasks_leased ON agent_tasks (lease_expires_at)
    WHERE status = 'running';

-- The triggers' statements find a task by its key (`agent_tasks_pkey`),
-- but PL/pgSQL plans each once per session and keeps the plan. One made
-- while the table was small (a fresh database: a few hundred rows, never
-- analysed) joins the dependencies to a sequential scan of the whole
-- table, and keeps doing so as the table grows by nine rows per trip and
-- three dead versions per task until autovacuum analyses it: the
-- database's CPU went to reading agent_tasks end to end for each
-- completed task. These functions touch a handful of rows by key, so they
-- are planned without sequential scans.
ALTER FUNCTION agent_results_complete() SET enable_seqscan = off;
ALTER FUNCTION agent_tasks_promote() SET enable_seqscan = off;
ALTER FUNCTION agent_tasks_promote_one() SET enable_seqscan = off;
ALTER FUNCTION wayfare_fence(UUID, BIGINT) SET enable_seqscan = off;

-- The JSON a trip writes over and over (its read model, about 11 kB of
-- text per version, rewritten with every append; each event's payload;
-- each task's result) is over TOAST's 2 kB threshold, so each write is
-- compressed: with the default pglz that was the database's largest single
-- cost under load. LZ4 compresses several times faster. It applies to
-- values written from now on; a server built without LZ4 keeps pglz.
DO $$
BEGIN
    IF 'lz4' = ANY ((SELECT enumvals FROM pg_settings
                     WHERE name = 'default_toast_compression')::text[]) THEN
        ALTER TABLE trip_state ALTER COLUMN state SET COMPRESSION lz4;
        ALTER TABLE trip_snapshots ALTER COLUMN state SET COMPRESSION lz4;
        ALTER TABLE trip_events ALTER COLUMN payload SET COMPRESSION lz4;
        ALTER TABLE agent_results ALTER COLUMN result SET COMPRESSION lz4;
    END IF;
END;
$$;
