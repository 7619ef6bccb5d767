-- Managers' choices about the weekly insight emails (docs/insights.md, "Opting out"): a row per
-- change, written by the signed opt-out link of each email (services/insights/opt-out.ts). The
-- latest row of an (org, manager) wins; no row means the manager gets the emails. The recipients
-- of a week are read when its run starts, so an opt-out is honoured by the next run.
CREATE TABLE IF NOT EXISTS {db:Identifier}.insight_preferences
(
    org_id     LowCardinality(String),
    manager_id String,
    opted_out  Bool COMMENT 'true: no more weekly insight emails for this manager.',
    updated_at DateTime64(3, 'UTC') COMMENT 'When the manager made this choice (the server clock).'
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (org_id, manager_id);
