/**
 * The columns of the reports of docs/metrics.md ("Reports"), in order: the one list that the
 * report definitions, the trend parameters, the BI views and the docs test read.
 */

/** Empower me: manager-autonomy's metrics. */
export const AUTONOMY_METRICS = [
  'deals_active',
  'deals_intervened',
  'intervention_rate',
  'takeovers',
  'team_wins',
  'rep_closed_wins',
  'rep_led_win_share',
] as const

/** Direct me: manager-direction's metrics. */
export const DIRECTION_METRICS = [
  'team_size',
  'reps_with_quota',
  'quota_coverage',
  'goals_set',
  'reps_with_goals',
  'goal_coverage',
] as const

/** Care about me: manager-care's metrics. */
export const CARE_METRICS = [
  'rep_messages',
  'replied_within_24h',
  'reply_within_24h_share',
  'unanswered',
  'median_reply_minutes',
  'p90_reply_minutes',
  'one_on_ones',
  'reps_with_one_on_one',
  'one_on_one_coverage',
  'lunches',
  'recognitions',
] as const

/** A rep's volume: rep-volume's metrics (after `rep_id`, `manager_id`). */
export const VOLUME_METRICS = [
  'opportunities_created',
  'pipeline_created_amount',
  'opportunities_qualified',
  'wins',
  'losses',
  'win_rate',
  'won_amount',
  'activities',
  'calls',
  'emails',
  'meetings',
  'accounts_engaged',
  'contacts_engaged',
  'contacts_per_account',
  'deals_worked',
  'multithreaded_deals',
  'multithreaded_share',
] as const

/** team-summary's manager columns (after `manager_id`): its three jobs over the range. */
export const TEAM_SUMMARY_MANAGER_METRICS = [
  'team_size',
  'intervention_rate',
  'rep_led_win_share',
  'quota_coverage',
  'goal_coverage',
  'reply_within_24h_share',
  'median_reply_minutes',
  'unanswered',
  'one_on_one_coverage',
  'recognitions',
] as const

/** team-summary's sums of the team's rep-volume numerators and denominators. */
export const TEAM_VOLUME_METRICS = [
  'team_opportunities_created',
  'team_opportunities_qualified',
  'team_wins',
  'team_losses',
  'team_win_rate',
  'team_activities',
  'team_multithreaded_share',
] as const
