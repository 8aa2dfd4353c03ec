-- Pointers to appends are sent by each process after the commit, in
-- batches (the store's `announce.rs`), no longer by a trigger inside every
-- append: PostgreSQL serialises the commits of transactions that sent a
-- NOTIFY, so with a second process alive each append committed alone (a
-- fifth of one process's throughput).
DROP TRIGGER trip_events_notify ON trip_events;
DROP FUNCTION trip_events_notify();
