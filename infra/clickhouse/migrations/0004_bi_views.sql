-- The BI interface (docs/bi.md): four views, one row per person and period, every metric of
-- docs/metrics.md, for Grafana, Metabase and Superset. Values equal the reports over the same
-- period exactly (test/int/bi-views.int.test.ts): they merge the read views of 0003 the way
-- services/reports/report-queries.ts does, grouped by period instead of over one range.
--
-- A plain view cannot take the period's end as a parameter, so every period is listed (each ISO
-- week and calendar month from an org's first to its last visible day: weeks with no events show
-- as rows of zeros) and what the reports resolve at the end of the range is resolved at the end
-- of each period: the org chart and display names (argMax over the versions with day <= the
-- period's end), the quotas and goals that overlap it, the deals multithreaded by then.
--
-- The internal_bi_* views are the steps, not the interface: they may change in any release. The
-- four bi_* views are SQL SECURITY DEFINER, so a reader needs SELECT on them only (the dugout_bi
-- role of infra/clickhouse/server/bi-access.sql); chDB, which has no users, ignores it.

-- Every period of every org: ('week' | 'month', first day, last day), org-local days.
CREATE OR REPLACE VIEW {db:Identifier}.internal_bi_periods AS
SELECT org_id, period.1 AS grain, period.2 AS ps, period.3 AS pe
FROM (
    SELECT org_id, min(day) AS first_day, max(day) AS last_day
    FROM {db:Identifier}.visible_generations
    GROUP BY org_id
)
ARRAY JOIN arrayConcat(
    arrayMap(i -> ('week', toMonday(first_day) + 7 * i, toMonday(first_day) + 7 * i + 6),
             range(toUInt32(intDiv(toMonday(last_day) - toMonday(first_day), 7) + 1))),
    arrayMap(i -> ('month', addMonths(toStartOfMonth(first_day), i), toLastDayOfMonth(addMonths(toStartOfMonth(first_day), i))),
             range(toUInt32(dateDiff('month', toStartOfMonth(first_day), toStartOfMonth(last_day)) + 1)))) AS period;

-- The org chart at the end of each period, with display names: per user, the latest version
-- (occurred_at, then event_id) on a day <= the period's end, v = (role, manager_id, active), and
-- the display_name of that user.upserted from the event store (as display-names.ts reads it).
CREATE OR REPLACE VIEW {db:Identifier}.internal_bi_charts AS
SELECT c.org_id AS org_id, c.grain AS grain, c.ps AS ps, c.pe AS pe, c.user_id AS user_id,
       (c.latest.1, c.latest.2, c.latest.3, n.name) AS v
FROM (
    SELECT per.org_id AS org_id, per.grain AS grain, per.ps AS ps, per.pe AS pe, uv.user_id AS user_id,
           argMax(tuple(uv.role, uv.manager_id, uv.active, uv.event_id), (uv.occurred_at, uv.event_id)) AS latest
    FROM {db:Identifier}.internal_bi_periods AS per
    INNER JOIN {db:Identifier}.user_versions AS uv ON uv.org_id = per.org_id
    WHERE uv.day <= per.pe
    GROUP BY per.org_id, per.grain, per.ps, per.pe, uv.user_id
) AS c
LEFT JOIN (
    SELECT org_id, event_id, any(JSONExtractString(payload, 'display_name')) AS name
    FROM {db:Identifier}.events
    WHERE type = 'user.upserted'
    GROUP BY org_id, event_id
) AS n ON n.org_id = c.org_id AND n.event_id = c.latest.4;

-- Per period and user: a quota (by anyone) and the setters of goals, set by the end of the
-- period, whose period overlaps it.
CREATE OR REPLACE VIEW {db:Identifier}.internal_bi_expectations AS
SELECT per.org_id AS org_id, per.grain AS grain, per.ps AS ps, e.user_id AS user_id,
       toUInt8(countIf(e.kind = 'quota') > 0) AS has_quota,
       groupUniqArrayIf(e.set_by, e.kind = 'goal') AS goal_setters
FROM {db:Identifier}.internal_bi_periods AS per
INNER JOIN {db:Identifier}.expectation_days AS e ON e.org_id = per.org_id
WHERE e.day <= per.pe AND e.period_start <= per.pe AND e.period_end >= per.ps
GROUP BY per.org_id, per.grain, per.ps, e.user_id;

-- Manager facts merged per period, as the report merges them over its range.
CREATE OR REPLACE VIEW {db:Identifier}.internal_bi_manager_facts AS
SELECT org_id, k.1 AS grain, k.2 AS ps, manager_id AS m,
       uniqExactArray(deals_active) AS deals_active,
       uniqExactArray(deals_intervened) AS deals_intervened,
       uniqExactArray(takeovers) AS takeovers,
       sum(team_wins) AS team_wins, sum(rep_closed_wins) AS rep_closed_wins, sum(goals_set) AS goals_set,
       sum(rep_messages) AS rep_messages, sum(replied_within_24h) AS replied_within_24h,
       sum(unanswered) AS unanswered,
       quantilesExactArray(0.5, 0.9)(reply_minutes) AS reply_quantiles,
       sum(one_on_ones) AS one_on_ones, groupUniqArrayArray(one_on_one_people) AS one_on_one_people,
       sum(lunches) AS lunches, sum(recognitions) AS recognitions
FROM {db:Identifier}.manager_days
ARRAY JOIN [('week', toMonday(day)), ('month', toStartOfMonth(day))] AS k
GROUP BY org_id, grain, ps, m;

-- Per period, a row per manager at its end: the team from the chart (a manager yields (m, '') and
-- an active rep (its manager, itself)), as MANAGER_SELECT of report-queries.ts, then the facts.
CREATE OR REPLACE VIEW {db:Identifier}.internal_bi_managers AS
SELECT t.org_id AS org_id, t.grain AS grain, t.ps AS period_start, t.pe AS period_end,
       t.m AS manager_id, nullIf(t.name, '') AS manager_name,
       toUInt64(f.deals_active) AS deals_active, toUInt64(f.deals_intervened) AS deals_intervened,
       if(deals_active = 0, NULL, deals_intervened / deals_active) AS intervention_rate,
       toUInt64(f.takeovers) AS takeovers, toUInt64(f.team_wins) AS team_wins,
       toUInt64(f.rep_closed_wins) AS rep_closed_wins,
       if(team_wins = 0, NULL, rep_closed_wins / team_wins) AS rep_led_win_share,
       toUInt64(t.team_size) AS team_size, toUInt64(t.reps_with_quota) AS reps_with_quota,
       if(team_size = 0, NULL, reps_with_quota / team_size) AS quota_coverage,
       toUInt64(f.goals_set) AS goals_set, toUInt64(t.reps_with_goals) AS reps_with_goals,
       if(team_size = 0, NULL, reps_with_goals / team_size) AS goal_coverage,
       toUInt64(f.rep_messages) AS rep_messages, toUInt64(f.replied_within_24h) AS replied_within_24h,
       if(rep_messages = 0, NULL, replied_within_24h / rep_messages) AS reply_within_24h_share,
       toUInt64(f.unanswered) AS unanswered,
       if(rep_messages > unanswered, f.reply_quantiles[1], NULL) AS median_reply_minutes,
       if(rep_messages > unanswered, f.reply_quantiles[2], NULL) AS p90_reply_minutes,
       toUInt64(f.one_on_ones) AS one_on_ones,
       toUInt64(arrayCount(x -> has(f.one_on_one_people, x), t.team)) AS reps_with_one_on_one,
       if(team_size = 0, NULL, reps_with_one_on_one / team_size) AS one_on_one_coverage,
       toUInt64(f.lunches) AS lunches, toUInt64(f.recognitions) AS recognitions
FROM (
    SELECT pr.org_id AS org_id, pr.grain AS grain, pr.ps AS ps, pr.pe AS pe, pr.m AS m,
           anyIf(pr.name, pr.rep = '') AS name,
           groupArrayIf(pr.rep, pr.rep != '') AS team, length(team) AS team_size,
           countIf(pr.rep != '' AND e.has_quota = 1) AS reps_with_quota,
           countIf(pr.rep != '' AND has(e.goal_setters, pr.m)) AS reps_with_goals
    FROM (
        SELECT org_id, grain, ps, pe, pair.1 AS m, pair.2 AS rep, v.4 AS name
        FROM {db:Identifier}.internal_bi_charts
        ARRAY JOIN arrayFilter(x -> x.1 != '', [
            if(v.1 = 'manager', (user_id, ''), ('', '')),
            if(v.1 = 'rep' AND v.3 = 1, (v.2, user_id), ('', ''))]) AS pair
    ) AS pr
    LEFT JOIN {db:Identifier}.internal_bi_expectations AS e
        ON e.org_id = pr.org_id AND e.grain = pr.grain AND e.ps = pr.ps AND e.user_id = pr.rep
    GROUP BY pr.org_id, pr.grain, pr.ps, pr.pe, pr.m
    HAVING countIf(pr.rep = '') > 0
) AS t
LEFT JOIN {db:Identifier}.internal_bi_manager_facts AS f
    ON f.org_id = t.org_id AND f.grain = t.grain AND f.ps = t.ps AND f.m = t.m;

-- Rep facts merged per period; deals_worked as the distinct deals, counted in internal_bi_reps.
CREATE OR REPLACE VIEW {db:Identifier}.internal_bi_rep_facts AS
SELECT org_id, k.1 AS grain, k.2 AS ps, rep_id AS r,
       sum(opportunities_created) AS opportunities_created,
       sumMap(pipeline_created_amount) AS pipeline_created_amount,
       sum(opportunities_qualified) AS opportunities_qualified, sum(wins) AS wins, sum(losses) AS losses,
       sumMap(won_amount) AS won_amount, sum(activities) AS activities, sum(calls) AS calls,
       sum(emails) AS emails, sum(meetings) AS meetings,
       uniqExactArray(accounts_engaged) AS accounts_engaged,
       uniqExactArray(contacts_engaged) AS contacts_engaged,
       uniqExactArray(deals_worked) AS deals_worked
FROM {db:Identifier}.rep_days
ARRAY JOIN [('week', toMonday(day)), ('month', toStartOfMonth(day))] AS k
GROUP BY org_id, grain, ps, r;

-- Per period and rep, the deals worked in the period that were multithreaded by its end: a deal
-- is multithreaded at a day iff it became so on a day up to it (multithreaded_deal_days).
CREATE OR REPLACE VIEW {db:Identifier}.internal_bi_rep_multithreaded AS
SELECT d.org_id AS org_id, d.grain AS grain, d.ps AS ps, d.r AS r,
       countIf(md.multithreaded = 1 AND md.since <= d.pe) AS multithreaded_deals
FROM (
    SELECT DISTINCT org_id, k.1 AS grain, k.2 AS ps, if(grain = 'week', ps + 6, toLastDayOfMonth(ps)) AS pe,
           rep_id AS r, deal
    FROM {db:Identifier}.rep_days
    ARRAY JOIN [('week', toMonday(day)), ('month', toStartOfMonth(day))] AS k
    ARRAY JOIN deals_worked AS deal
) AS d
LEFT JOIN (
    SELECT org_id, deal_id128, min(day) AS since, toUInt8(1) AS multithreaded
    FROM {db:Identifier}.multithreaded_deal_days
    GROUP BY org_id, deal_id128
) AS md ON md.org_id = d.org_id AND md.deal_id128 = d.deal
GROUP BY d.org_id, d.grain, d.ps, d.r;

-- Per period, a row per user whose role is rep at its end (active or not), as REP_SELECT.
CREATE OR REPLACE VIEW {db:Identifier}.internal_bi_reps AS
SELECT c.org_id AS org_id, c.grain AS grain, c.ps AS period_start, c.pe AS period_end,
       c.user_id AS rep_id, nullIf(c.v.4, '') AS rep_name,
       nullIf(c.v.2, '') AS manager_id, nullIf(mc.v.4, '') AS manager_name,
       toUInt64(f.opportunities_created) AS opportunities_created,
       CAST(f.pipeline_created_amount AS Map(String, Decimal(38, 6))) AS pipeline_created_amount,
       toUInt64(f.opportunities_qualified) AS opportunities_qualified,
       toUInt64(f.wins) AS wins, toUInt64(f.losses) AS losses,
       if(wins + losses = 0, NULL, wins / (wins + losses)) AS win_rate,
       CAST(f.won_amount AS Map(String, Decimal(38, 6))) AS won_amount,
       toUInt64(f.activities) AS activities, toUInt64(f.calls) AS calls, toUInt64(f.emails) AS emails,
       toUInt64(f.meetings) AS meetings, toUInt64(f.accounts_engaged) AS accounts_engaged,
       toUInt64(f.contacts_engaged) AS contacts_engaged,
       if(accounts_engaged = 0, NULL, contacts_engaged / accounts_engaged) AS contacts_per_account,
       toUInt64(f.deals_worked) AS deals_worked, toUInt64(mt.multithreaded_deals) AS multithreaded_deals,
       if(deals_worked = 0, NULL, multithreaded_deals / deals_worked) AS multithreaded_share
FROM (SELECT * FROM {db:Identifier}.internal_bi_charts WHERE v.1 = 'rep') AS c
LEFT JOIN {db:Identifier}.internal_bi_charts AS mc
    ON mc.org_id = c.org_id AND mc.grain = c.grain AND mc.ps = c.ps AND mc.user_id = c.v.2
LEFT JOIN {db:Identifier}.internal_bi_rep_facts AS f
    ON f.org_id = c.org_id AND f.grain = c.grain AND f.ps = c.ps AND f.r = c.user_id
LEFT JOIN {db:Identifier}.internal_bi_rep_multithreaded AS mt
    ON mt.org_id = c.org_id AND mt.grain = c.grain AND mt.ps = c.ps AND mt.r = c.user_id;


-- Public: one row per (org, ISO week (Monday to Sunday), manager).
CREATE OR REPLACE VIEW {db:Identifier}.bi_manager_weekly
(
    org_id String COMMENT 'The org (tenant) id. Every query should filter on it; a BI user\'s row policy does.',
    period_start Date COMMENT 'First day of the period in the org\'s time zone: the Monday of an ISO week, or the 1st of a month.',
    period_end Date COMMENT 'Last day of the period, inclusive: the Sunday of the week, or the last day of the month.',
    manager_id String COMMENT 'The manager: a user whose role is manager at the end of the period (docs/metrics.md, Reports).',
    manager_name Nullable(String) COMMENT 'The manager\'s display_name from their latest user.upserted by the end of the period; NULL if none.',
    deals_active UInt64 COMMENT 'Empower me. Distinct opportunities with at least one team deal event in the period.',
    deals_intervened UInt64 COMMENT 'Empower me. Of deals_active, the deals with an intervention by the manager in the period.',
    intervention_rate Nullable(Float64) COMMENT 'Empower me. deals_intervened / deals_active; NULL when deals_active = 0. Lower leaves more room to the reps.',
    takeovers UInt64 COMMENT 'Empower me. Distinct team deals the manager took over (owner_changed to the manager, or closed by the manager) in the period.',
    team_wins UInt64 COMMENT 'Empower me. closed events with outcome won that are team deal events in the period.',
    rep_closed_wins UInt64 COMMENT 'Empower me. Of team_wins, those closed by the deal owner.',
    rep_led_win_share Nullable(Float64) COMMENT 'Empower me. rep_closed_wins / team_wins; NULL when team_wins = 0.',
    team_size UInt64 COMMENT 'Direct me. Active reps on the manager\'s team at the end of the period.',
    reps_with_quota UInt64 COMMENT 'Direct me. Reps of team_size with a quota set by the end of the period whose period overlaps this one.',
    quota_coverage Nullable(Float64) COMMENT 'Direct me. reps_with_quota / team_size; NULL when team_size = 0.',
    goals_set UInt64 COMMENT 'Direct me. goal.set events in the period by the manager for a rep on their team.',
    reps_with_goals UInt64 COMMENT 'Direct me. Reps of team_size with a goal set by the manager by the end of the period whose period overlaps this one.',
    goal_coverage Nullable(Float64) COMMENT 'Direct me. reps_with_goals / team_size; NULL when team_size = 0.',
    rep_messages UInt64 COMMENT 'Care about me. Messages in the period from a rep on the team to the manager.',
    replied_within_24h UInt64 COMMENT 'Care about me. Of rep_messages, those the manager replied to within 24 hours.',
    reply_within_24h_share Nullable(Float64) COMMENT 'Care about me. replied_within_24h / rep_messages; NULL when rep_messages = 0.',
    unanswered UInt64 COMMENT 'Care about me. Rep messages with no reply within 168 hours.',
    median_reply_minutes Nullable(Float64) COMMENT 'Care about me. Exact median (quantileExact(0.5)) of the reply delays in minutes; NULL when no message was replied.',
    p90_reply_minutes Nullable(Float64) COMMENT 'Care about me. Exact 90th percentile (quantileExact(0.9)) of the reply delays in minutes; NULL when no message was replied.',
    one_on_ones UInt64 COMMENT 'Care about me. One-on-one meetings held in the period between the manager and a rep on the team.',
    reps_with_one_on_one UInt64 COMMENT 'Care about me. Reps of team_size who were in one of those meetings.',
    one_on_one_coverage Nullable(Float64) COMMENT 'Care about me. reps_with_one_on_one / team_size; NULL when team_size = 0.',
    lunches UInt64 COMMENT 'Care about me. Lunches held in the period between the manager and a rep on the team.',
    recognitions UInt64 COMMENT 'Care about me. recognition.given in the period from the manager to a rep on the team.'
)
SQL SECURITY DEFINER
AS SELECT org_id, period_start, period_end, manager_id, manager_name, deals_active, deals_intervened, intervention_rate, takeovers, team_wins, rep_closed_wins, rep_led_win_share, team_size, reps_with_quota, quota_coverage, goals_set, reps_with_goals, goal_coverage, rep_messages, replied_within_24h, reply_within_24h_share, unanswered, median_reply_minutes, p90_reply_minutes, one_on_ones, reps_with_one_on_one, one_on_one_coverage, lunches, recognitions
FROM {db:Identifier}.internal_bi_managers
WHERE grain = 'week'
COMMENT 'Dugout BI interface v1 (docs/bi.md): one row per org, ISO week (Monday to Sunday) in the org time zone and manager at the end of the period; values equal the manager-autonomy, manager-direction and manager-care reports over that period.';

-- Public: one row per (org, ISO week (Monday to Sunday), rep).
CREATE OR REPLACE VIEW {db:Identifier}.bi_rep_weekly
(
    org_id String COMMENT 'The org (tenant) id. Every query should filter on it; a BI user\'s row policy does.',
    period_start Date COMMENT 'First day of the period in the org\'s time zone: the Monday of an ISO week, or the 1st of a month.',
    period_end Date COMMENT 'Last day of the period, inclusive: the Sunday of the week, or the last day of the month.',
    rep_id String COMMENT 'The rep: a user whose role is rep at the end of the period (active or not).',
    rep_name Nullable(String) COMMENT 'The rep\'s display_name from their latest user.upserted by the end of the period; NULL if none.',
    manager_id Nullable(String) COMMENT 'The rep\'s team: their manager at the end of the period; NULL when they have none.',
    manager_name Nullable(String) COMMENT 'The display_name of manager_id as of the end of the period; NULL if none.',
    opportunities_created UInt64 COMMENT 'Volume. opportunity.created in the period owned by the rep.',
    pipeline_created_amount Map(String, Decimal(38, 6)) COMMENT 'Volume. Sum of the amounts of those opportunities per currency, e.g. {\'USD\': 15000}; read one currency as pipeline_created_amount[\'USD\'].',
    opportunities_qualified UInt64 COMMENT 'Volume. Opportunities whose first entry into qualified, proposal or negotiation is in the period, owned by the rep then.',
    wins UInt64 COMMENT 'Volume. Won closed events in the period of the rep\'s deals.',
    losses UInt64 COMMENT 'Volume. Lost closed events in the period of the rep\'s deals.',
    win_rate Nullable(Float64) COMMENT 'Volume. wins / (wins + losses); NULL when both are 0.',
    won_amount Map(String, Decimal(38, 6)) COMMENT 'Volume. Sum per currency of the won deals\' amounts (closed.amount, else created.amount).',
    activities UInt64 COMMENT 'Volume. activity.logged in the period owned by the rep.',
    calls UInt64 COMMENT 'Volume. Of activities, the calls.',
    emails UInt64 COMMENT 'Volume. Of activities, the emails.',
    meetings UInt64 COMMENT 'Volume. Of activities, the meetings.',
    accounts_engaged UInt64 COMMENT 'Relationships. Distinct accounts of the activities in the period the rep owned or took part in.',
    contacts_engaged UInt64 COMMENT 'Relationships. Distinct contacts of those activities.',
    contacts_per_account Nullable(Float64) COMMENT 'Relationships. contacts_engaged / accounts_engaged; NULL when accounts_engaged = 0.',
    deals_worked UInt64 COMMENT 'Relationships. Distinct opportunities of those activities.',
    multithreaded_deals UInt64 COMMENT 'Relationships. Of deals_worked, those with 3 or more distinct contacts over all their activities by the end of the period.',
    multithreaded_share Nullable(Float64) COMMENT 'Relationships. multithreaded_deals / deals_worked; NULL when deals_worked = 0.'
)
SQL SECURITY DEFINER
AS SELECT org_id, period_start, period_end, rep_id, rep_name, manager_id, manager_name, opportunities_created, pipeline_created_amount, opportunities_qualified, wins, losses, win_rate, won_amount, activities, calls, emails, meetings, accounts_engaged, contacts_engaged, contacts_per_account, deals_worked, multithreaded_deals, multithreaded_share
FROM {db:Identifier}.internal_bi_reps
WHERE grain = 'week'
COMMENT 'Dugout BI interface v1 (docs/bi.md): one row per org, ISO week (Monday to Sunday) in the org time zone and rep at the end of the period; values equal the rep-volume report over that period.';

-- Public: one row per (org, calendar month, manager).
CREATE OR REPLACE VIEW {db:Identifier}.bi_manager_monthly
(
    org_id String COMMENT 'The org (tenant) id. Every query should filter on it; a BI user\'s row policy does.',
    period_start Date COMMENT 'First day of the period in the org\'s time zone: the Monday of an ISO week, or the 1st of a month.',
    period_end Date COMMENT 'Last day of the period, inclusive: the Sunday of the week, or the last day of the month.',
    manager_id String COMMENT 'The manager: a user whose role is manager at the end of the period (docs/metrics.md, Reports).',
    manager_name Nullable(String) COMMENT 'The manager\'s display_name from their latest user.upserted by the end of the period; NULL if none.',
    deals_active UInt64 COMMENT 'Empower me. Distinct opportunities with at least one team deal event in the period.',
    deals_intervened UInt64 COMMENT 'Empower me. Of deals_active, the deals with an intervention by the manager in the period.',
    intervention_rate Nullable(Float64) COMMENT 'Empower me. deals_intervened / deals_active; NULL when deals_active = 0. Lower leaves more room to the reps.',
    takeovers UInt64 COMMENT 'Empower me. Distinct team deals the manager took over (owner_changed to the manager, or closed by the manager) in the period.',
    team_wins UInt64 COMMENT 'Empower me. closed events with outcome won that are team deal events in the period.',
    rep_closed_wins UInt64 COMMENT 'Empower me. Of team_wins, those closed by the deal owner.',
    rep_led_win_share Nullable(Float64) COMMENT 'Empower me. rep_closed_wins / team_wins; NULL when team_wins = 0.',
    team_size UInt64 COMMENT 'Direct me. Active reps on the manager\'s team at the end of the period.',
    reps_with_quota UInt64 COMMENT 'Direct me. Reps of team_size with a quota set by the end of the period whose period overlaps this one.',
    quota_coverage Nullable(Float64) COMMENT 'Direct me. reps_with_quota / team_size; NULL when team_size = 0.',
    goals_set UInt64 COMMENT 'Direct me. goal.set events in the period by the manager for a rep on their team.',
    reps_with_goals UInt64 COMMENT 'Direct me. Reps of team_size with a goal set by the manager by the end of the period whose period overlaps this one.',
    goal_coverage Nullable(Float64) COMMENT 'Direct me. reps_with_goals / team_size; NULL when team_size = 0.',
    rep_messages UInt64 COMMENT 'Care about me. Messages in the period from a rep on the team to the manager.',
    replied_within_24h UInt64 COMMENT 'Care about me. Of rep_messages, those the manager replied to within 24 hours.',
    reply_within_24h_share Nullable(Float64) COMMENT 'Care about me. replied_within_24h / rep_messages; NULL when rep_messages = 0.',
    unanswered UInt64 COMMENT 'Care about me. Rep messages with no reply within 168 hours.',
    median_reply_minutes Nullable(Float64) COMMENT 'Care about me. Exact median (quantileExact(0.5)) of the reply delays in minutes; NULL when no message was replied.',
    p90_reply_minutes Nullable(Float64) COMMENT 'Care about me. Exact 90th percentile (quantileExact(0.9)) of the reply delays in minutes; NULL when no message was replied.',
    one_on_ones UInt64 COMMENT 'Care about me. One-on-one meetings held in the period between the manager and a rep on the team.',
    reps_with_one_on_one UInt64 COMMENT 'Care about me. Reps of team_size who were in one of those meetings.',
    one_on_one_coverage Nullable(Float64) COMMENT 'Care about me. reps_with_one_on_one / team_size; NULL when team_size = 0.',
    lunches UInt64 COMMENT 'Care about me. Lunches held in the period between the manager and a rep on the team.',
    recognitions UInt64 COMMENT 'Care about me. recognition.given in the period from the manager to a rep on the team.'
)
SQL SECURITY DEFINER
AS SELECT org_id, period_start, period_end, manager_id, manager_name, deals_active, deals_intervened, intervention_rate, takeovers, team_wins, rep_closed_wins, rep_led_win_share, team_size, reps_with_quota, quota_coverage, goals_set, reps_with_goals, goal_coverage, rep_messages, replied_within_24h, reply_within_24h_share, unanswered, median_reply_minutes, p90_reply_minutes, one_on_ones, reps_with_one_on_one, one_on_one_coverage, lunches, recognitions
FROM {db:Identifier}.internal_bi_managers
WHERE grain = 'month'
COMMENT 'Dugout BI interface v1 (docs/bi.md): one row per org, calendar month in the org time zone and manager at the end of the period; values equal the manager-autonomy, manager-direction and manager-care reports over that period.';

-- Public: one row per (org, calendar month, rep).
CREATE OR REPLACE VIEW {db:Identifier}.bi_rep_monthly
(
    org_id String COMMENT 'The org (tenant) id. Every query should filter on it; a BI user\'s row policy does.',
    period_start Date COMMENT 'First day of the period in the org\'s time zone: the Monday of an ISO week, or the 1st of a month.',
    period_end Date COMMENT 'Last day of the period, inclusive: the Sunday of the week, or the last day of the month.',
    rep_id String COMMENT 'The rep: a user whose role is rep at the end of the period (active or not).',
    rep_name Nullable(String) COMMENT 'The rep\'s display_name from their latest user.upserted by the end of the period; NULL if none.',
    manager_id Nullable(String) COMMENT 'The rep\'s team: their manager at the end of the period; NULL when they have none.',
    manager_name Nullable(String) COMMENT 'The display_name of manager_id as of the end of the period; NULL if none.',
    opportunities_created UInt64 COMMENT 'Volume. opportunity.created in the period owned by the rep.',
    pipeline_created_amount Map(String, Decimal(38, 6)) COMMENT 'Volume. Sum of the amounts of those opportunities per currency, e.g. {\'USD\': 15000}; read one currency as pipeline_created_amount[\'USD\'].',
    opportunities_qualified UInt64 COMMENT 'Volume. Opportunities whose first entry into qualified, proposal or negotiation is in the period, owned by the rep then.',
    wins UInt64 COMMENT 'Volume. Won closed events in the period of the rep\'s deals.',
    losses UInt64 COMMENT 'Volume. Lost closed events in the period of the rep\'s deals.',
    win_rate Nullable(Float64) COMMENT 'Volume. wins / (wins + losses); NULL when both are 0.',
    won_amount Map(String, Decimal(38, 6)) COMMENT 'Volume. Sum per currency of the won deals\' amounts (closed.amount, else created.amount).',
    activities UInt64 COMMENT 'Volume. activity.logged in the period owned by the rep.',
    calls UInt64 COMMENT 'Volume. Of activities, the calls.',
    emails UInt64 COMMENT 'Volume. Of activities, the emails.',
    meetings UInt64 COMMENT 'Volume. Of activities, the meetings.',
    accounts_engaged UInt64 COMMENT 'Relationships. Distinct accounts of the activities in the period the rep owned or took part in.',
    contacts_engaged UInt64 COMMENT 'Relationships. Distinct contacts of those activities.',
    contacts_per_account Nullable(Float64) COMMENT 'Relationships. contacts_engaged / accounts_engaged; NULL when accounts_engaged = 0.',
    deals_worked UInt64 COMMENT 'Relationships. Distinct opportunities of those activities.',
    multithreaded_deals UInt64 COMMENT 'Relationships. Of deals_worked, those with 3 or more distinct contacts over all their activities by the end of the period.',
    multithreaded_share Nullable(Float64) COMMENT 'Relationships. multithreaded_deals / deals_worked; NULL when deals_worked = 0.'
)
SQL SECURITY DEFINER
AS SELECT org_id, period_start, period_end, rep_id, rep_name, manager_id, manager_name, opportunities_created, pipeline_created_amount, opportunities_qualified, wins, losses, win_rate, won_amount, activities, calls, emails, meetings, accounts_engaged, contacts_engaged, contacts_per_account, deals_worked, multithreaded_deals, multithreaded_share
FROM {db:Identifier}.internal_bi_reps
WHERE grain = 'month'
COMMENT 'Dugout BI interface v1 (docs/bi.md): one row per org, calendar month in the org time zone and rep at the end of the period; values equal the rep-volume report over that period.';
