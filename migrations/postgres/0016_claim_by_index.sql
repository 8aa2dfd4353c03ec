-- Claims read the ready tasks by index scans, not bitmap scans.
--
-- Migration 0013's partial indexes hold an entry for every version of a
-- task that was ever ready; an entry goes when the index learns its tuple
-- is dead. Plain index scans teach it (a dead tuple found marks its entry,
-- and later scans skip it), bitmap scans never do, and with autovacuum off
-- or behind nothing else does in a busy minute: the planner chose a bitmap
-- scan (the readiness test is an OR of two partial indexes), so each claim
-- visited every task made ready since the last vacuum — 1 861 entries and
-- 435 heap pages to find no ready task, 0.8 ms, after a 15 s load run,
-- and more the longer the run. Here each partial index is read by its own
-- index scan (0.12 ms and 22 pages on the same database), the claim is one
-- function so that its plan is made once per connection, and it keeps the
-- old statement's rules: only the given agent types, at most each type's
-- quota, most urgent first, rows another claim holds skipped.
CREATE FUNCTION wayfare_claim(p_owner TEXT, p_until TIMESTAMPTZ, p_quotas JSONB, p_now TIMESTAMPTZ)
RETURNS SETOF agent_tasks LANGUAGE plpgsql
SET enable_bitmapscan = off SET enable_seqscan = off AS $$
BEGIN
    RETURN QUERY
    WITH quota AS (
        SELECT key AS agent_type, value::bigint AS quota FROM jsonb_each_text(p_quotas)),
     pending AS (
        SELECT t.task_id, t.agent_type, t.priority, t.position FROM agent_tasks t
        WHERE t.status = 'pending' AND t.deps_done AND t.available_at <= p_now
          AND t.agent_type IN (SELECT q.agent_type FROM quota q)
        FOR UPDATE OF t SKIP LOCKED),
     expired AS (
        SELECT t.task_id, t.agent_type, t.priority, t.position FROM agent_tasks t
        WHERE t.status = 'running' AND t.lease_expires_at <= p_now
          AND t.agent_type IN (SELECT q.agent_type FROM quota q)
        FOR UPDATE OF t SKIP LOCKED),
     ranked AS (
        SELECT r.task_id, ROW_NUMBER() OVER (
            PARTITION BY r.agent_type ORDER BY r.priority, r.position) AS n, q.quota
        FROM (SELECT * FROM pending UNION ALL SELECT * FROM expired) r
        JOIN quota q ON q.agent_type = r.agent_type),
     claimed AS (
        UPDATE agent_tasks a SET status = 'running', attempts = a.attempts + 1,
            claim_epoch = a.claim_epoch + 1, lease_owner = p_owner, lease_expires_at = p_until
        FROM ranked WHERE a.task_id = ranked.task_id AND ranked.n <= ranked.quota
        RETURNING a.*)
    SELECT * FROM claimed;
END $$;
