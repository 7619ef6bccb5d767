-- The event store merges its parts one column at a time (ClickHouse's vertical merge) at every
-- size. By default ClickHouse does so only from 131,072 rows up and otherwise reads and writes all
-- 44 columns of the parts together, with a buffer for each: ingest's 10,000-event inserts make
-- many small parts, and their merges held about 45 MiB more of the engine's memory at the peak of
-- a backfill, at the same insert speed (docs/scaling.md, "Memory"). Rows, order and deduplication
-- are the same either way.
ALTER TABLE {db:Identifier}.events
    MODIFY SETTING vertical_merge_algorithm_min_rows_to_activate = 1,
                   vertical_merge_algorithm_min_columns_to_activate = 1;
