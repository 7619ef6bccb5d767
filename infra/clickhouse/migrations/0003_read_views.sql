-- The read side's views: what readers may see of the metric projections, as ClickHouse itself
-- states it, so that the reports, the BI views, the report page and the insight emails all read
-- one rule instead of each restating it (services/reports/report-queries.ts reads these views).
--
-- The rule (see metric_days in 0002): per (org, day), readers see the facts of the generation of
-- the latest marker (by computed_at, then generation), and only if that marker was computed with
-- the org's current timezone and the current definition version of the facts. A day recomputed
-- under another timezone, or by an older version of the definitions, shows nothing until it is
-- recomputed. The definition version is written here as a literal: a migration that changes the
-- facts' definitions replaces these views with its own version (services/projections/metric-facts.ts,
-- METRICS_DEFINITION_VERSION, must match; a unit test checks).
--
-- Readers filter on org_id (and day): ClickHouse pushes those filters into the views.

-- The org's settings in effect: the latest write per org, defaults for an org that never set any.
CREATE OR REPLACE VIEW {db:Identifier}.org_settings_current AS
SELECT org_id,
       argMax(timezone, updated_at) AS timezone,
       argMax(default_currency, updated_at) AS default_currency
FROM {db:Identifier}.org_settings
GROUP BY org_id;

-- Per (org, day), the one generation of facts readers see.
CREATE OR REPLACE VIEW {db:Identifier}.visible_generations AS
SELECT m.org_id AS org_id, m.day AS day, m.latest.1 AS generation, m.latest.4 AS computed_at
FROM (
    SELECT org_id, day,
           argMax(tuple(generation, timezone, definition_version, computed_at), (computed_at, generation)) AS latest
    FROM {db:Identifier}.metric_days
    GROUP BY org_id, day
) AS m
LEFT JOIN {db:Identifier}.org_settings_current AS s ON s.org_id = m.org_id
WHERE m.latest.2 = if(s.timezone = '', 'UTC', s.timezone) AND m.latest.3 = 1;

-- One view per projection: its rows of the visible generations only, without the bookkeeping
-- columns (generation, definition_version, computed_at). A join rather than IN: a filter on
-- org_id and day then reaches both sides, so a reader of one org never plans the others' days.

-- Per (org, day, manager): the day's facts of the manager's team.
CREATE OR REPLACE VIEW {db:Identifier}.manager_days AS
SELECT f.org_id AS org_id, f.day AS day, f.manager_id AS manager_id,
       f.deals_active AS deals_active, f.deals_intervened AS deals_intervened,
       f.takeovers AS takeovers, f.team_wins AS team_wins, f.rep_closed_wins AS rep_closed_wins,
       f.goals_set AS goals_set, f.rep_messages AS rep_messages,
       f.replied_within_24h AS replied_within_24h, f.unanswered AS unanswered,
       f.reply_minutes AS reply_minutes, f.one_on_ones AS one_on_ones,
       f.one_on_one_people AS one_on_one_people, f.lunches AS lunches,
       f.recognitions AS recognitions
FROM {db:Identifier}.metric_manager_daily AS f
INNER JOIN {db:Identifier}.visible_generations AS v
    ON v.org_id = f.org_id AND v.day = f.day AND v.generation = f.generation;

-- Per (org, day, user): the day's volume facts of the user (reports keep the reps).
CREATE OR REPLACE VIEW {db:Identifier}.rep_days AS
SELECT f.org_id AS org_id, f.day AS day, f.rep_id AS rep_id,
       f.opportunities_created AS opportunities_created,
       f.pipeline_created_amount AS pipeline_created_amount,
       f.opportunities_qualified AS opportunities_qualified, f.wins AS wins, f.losses AS losses,
       f.won_amount AS won_amount, f.activities AS activities, f.calls AS calls,
       f.emails AS emails, f.meetings AS meetings, f.accounts_engaged AS accounts_engaged,
       f.contacts_engaged AS contacts_engaged, f.deals_worked AS deals_worked
FROM {db:Identifier}.metric_rep_daily AS f
INNER JOIN {db:Identifier}.visible_generations AS v
    ON v.org_id = f.org_id AND v.day = f.day AND v.generation = f.generation;

-- Deals that became multithreaded, on the day they did.
CREATE OR REPLACE VIEW {db:Identifier}.multithreaded_deal_days AS
SELECT f.org_id AS org_id, f.day AS day, f.deal_id128 AS deal_id128,
       f.opportunity_id AS opportunity_id
FROM {db:Identifier}.metric_multithreaded_deals AS f
INNER JOIN {db:Identifier}.visible_generations AS v
    ON v.org_id = f.org_id AND v.day = f.day AND v.generation = f.generation;

-- The org chart's history: one row per user.upserted, on its day.
CREATE OR REPLACE VIEW {db:Identifier}.user_versions AS
SELECT f.org_id AS org_id, f.day AS day, f.user_id AS user_id, f.occurred_at AS occurred_at,
       f.event_id AS event_id, f.role AS role, f.manager_id AS manager_id, f.active AS active
FROM {db:Identifier}.metric_user_versions AS f
INNER JOIN {db:Identifier}.visible_generations AS v
    ON v.org_id = f.org_id AND v.day = f.day AND v.generation = f.generation;

-- Quotas and goals, on the day they were set.
CREATE OR REPLACE VIEW {db:Identifier}.expectation_days AS
SELECT f.org_id AS org_id, f.day AS day, f.kind AS kind, f.user_id AS user_id, f.set_by AS set_by,
       f.period_start AS period_start, f.period_end AS period_end
FROM {db:Identifier}.metric_expectations AS f
INNER JOIN {db:Identifier}.visible_generations AS v
    ON v.org_id = f.org_id AND v.day = f.day AND v.generation = f.generation;
