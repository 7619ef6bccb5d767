-- Server only (chDB has no users, roles or row policies): the read-only role of the BI views
-- (docs/bi.md). Not a migration of infra/clickhouse/migrations, which run on both engines:
-- `dugout bi grant` applies this file on a ClickHouse server (CLICKHOUSE_URL) before it creates a
-- user, and every statement is idempotent, so it runs at every grant and a changed file takes
-- effect at the next one (services/reports/bi-access.ts; each statement is parsed by chDB in
-- test/int/bi-access.int.test.ts).

CREATE ROLE IF NOT EXISTS dugout_bi;

-- readonly = 1: no writes, no DDL, no setting changes, except max_execution_time, which the
-- Grafana ClickHouse data source sets on every query (its documentation recommends exactly this
-- over readonly = 2 on a shared server). A query runs 60 s by default, 300 s at most.
CREATE SETTINGS PROFILE OR REPLACE dugout_bi_readonly
    SETTINGS readonly = 1, max_execution_time = 60 MAX 300 CHANGEABLE_IN_READONLY
    TO dugout_bi;

-- SELECT on the four views only: they are SQL SECURITY DEFINER (migration 0004), so the role
-- needs nothing on the tables they read.
GRANT SELECT ON {db:Identifier}.bi_manager_weekly TO dugout_bi;
GRANT SELECT ON {db:Identifier}.bi_rep_weekly TO dugout_bi;
GRANT SELECT ON {db:Identifier}.bi_manager_monthly TO dugout_bi;
GRANT SELECT ON {db:Identifier}.bi_rep_monthly TO dugout_bi;
