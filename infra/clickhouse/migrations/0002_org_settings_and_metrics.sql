-- Org settings and the metric projections (services/metrics). Every metric table is a projection
-- of the event store: it can be dropped and rebuilt with listEventDays + recomputeDays.

-- Per-org settings read by the metrics: the timezone that cuts days and ranges, and the currency of
-- amounts sent without one. ReplacingMergeTree by updated_at: a write is a new row, readers use
-- FINAL, so the latest write wins (same updated_at: the last inserted, per ReplacingMergeTree).
CREATE TABLE IF NOT EXISTS {db:Identifier}.org_settings
(
    org_id           LowCardinality(String),
    timezone         String DEFAULT 'UTC',
    default_currency LowCardinality(String) DEFAULT 'USD',
    updated_at       DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY org_id;

-- One row per recomputation of one (org, day): the commit marker of a generation of facts.
-- recomputeDays writes a day's fact rows under a fresh `generation`, then this marker; readers see,
-- per day, only the generation of the latest marker (by computed_at, then generation), and only if
-- it was computed with the org's current timezone and the current definition version. So a
-- recomputation replaces a day atomically for readers, a crash before the marker leaves the old
-- facts visible, and two concurrent recomputations never mix. Plain MergeTree, not Replacing:
-- pruneSuperseded finds the superseded generations here, so their markers must stay until it has
-- deleted their facts (then it deletes the markers).
CREATE TABLE IF NOT EXISTS {db:Identifier}.metric_days
(
    org_id             LowCardinality(String),
    day                Date,
    generation         UUID,
    timezone           LowCardinality(String),
    definition_version UInt16,
    computed_at        DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (org_id, day, computed_at);

-- Distinct sets are stored as arrays of 128-bit SipHash ids (sipHash128 reinterpreted as UInt128),
-- each day's set distinct: the distinct count over any range is uniqExactArray of the merged days,
-- which is how uniqExact itself counts strings (their 128-bit hashes). Merging such arrays is 2-3
-- times faster on chDB than merging uniqExact states, and the reference reports (uniqExact over
-- the ids) check that the two agree.

-- Per (org, day, manager m) facts of m's team, day = day of the event in the org's timezone.
-- `reply_minutes` are the day's reply delays: quantilesExact over the merged days is exactly the
-- quantile over the range. `one_on_one_people` keeps who was in m's qualifying one-on-ones,
-- intersected at report time with m's team at the end of the range.
CREATE TABLE IF NOT EXISTS {db:Identifier}.metric_manager_daily
(
    org_id             LowCardinality(String),
    day                Date,
    generation         UUID,
    manager_id         String,
    deals_active       Array(UInt128),
    deals_intervened   Array(UInt128),
    takeovers          Array(UInt128),
    team_wins          UInt32,
    rep_closed_wins    UInt32,
    goals_set          UInt32,
    rep_messages       UInt32,
    replied_within_24h UInt32,
    unanswered         UInt32,
    reply_minutes      Array(Float64),
    one_on_ones        UInt32,
    one_on_one_people  Array(String),
    lunches            UInt32,
    recognitions       UInt32,
    definition_version UInt16,
    computed_at        DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (org_id, day, generation, manager_id);

-- Per (org, day, user r) volume facts of r (rows exist for any user; the report keeps the reps).
-- Amounts are per-currency maps of Decimal128(6), so sums are exact whatever the grouping.
-- `deals_worked` (ids as above) is looked up at report time in metric_multithreaded_deals.
CREATE TABLE IF NOT EXISTS {db:Identifier}.metric_rep_daily
(
    org_id                  LowCardinality(String),
    day                     Date,
    generation              UUID,
    rep_id                  String,
    opportunities_created   UInt32,
    pipeline_created_amount Map(LowCardinality(String), Decimal128(6)),
    opportunities_qualified UInt32,
    wins                    UInt32,
    losses                  UInt32,
    won_amount              Map(LowCardinality(String), Decimal128(6)),
    activities              UInt32,
    calls                   UInt32,
    emails                  UInt32,
    meetings                UInt32,
    accounts_engaged        Array(UInt128),
    contacts_engaged        Array(UInt128),
    deals_worked            Array(UInt128),
    definition_version      UInt16,
    computed_at             DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (org_id, day, generation, rep_id);

-- Deals that became multithreaded, on the day their activities (by anyone) first reached 3
-- distinct contacts: a deal is multithreaded at the end of a range iff it has a row with
-- day <= the range's end, so the report looks deals up instead of merging contact sets over all
-- history. That day is the 3rd smallest of the days each contact first appeared on the deal.
-- `deal_id128` is the deal's id as in metric_rep_daily.deals_worked.
CREATE TABLE IF NOT EXISTS {db:Identifier}.metric_multithreaded_deals
(
    org_id             LowCardinality(String),
    deal_id128         UInt128,
    opportunity_id     String,
    day                Date,
    generation         UUID,
    definition_version UInt16,
    computed_at        DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (org_id, day, generation, deal_id128);

-- The org chart's history: one row per user.upserted, on its day. The org chart at the end of a
-- range is the latest row per user (by occurred_at, then event_id) with day <= the range's end.
CREATE TABLE IF NOT EXISTS {db:Identifier}.metric_user_versions
(
    org_id             LowCardinality(String),
    day                Date,
    generation         UUID,
    user_id            String,
    occurred_at        DateTime64(3, 'UTC'),
    event_id           String,
    role               LowCardinality(String),
    manager_id         String,
    active             UInt8,
    definition_version UInt16,
    computed_at        DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (org_id, day, generation, user_id, occurred_at, event_id);

-- Expectations set (quota.set, goal.set), on the day they were set: whether a rep has a quota or a
-- goal for a range depends on the range (period overlap), so it is decided at report time.
CREATE TABLE IF NOT EXISTS {db:Identifier}.metric_expectations
(
    org_id             LowCardinality(String),
    day                Date,
    generation         UUID,
    kind               LowCardinality(String),
    user_id            String,
    set_by             String,
    period_start       Date,
    period_end         Date,
    definition_version UInt16,
    computed_at        DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (org_id, day, generation, kind, user_id);
