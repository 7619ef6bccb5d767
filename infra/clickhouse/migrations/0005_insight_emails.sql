-- The sent-log of the weekly insight emails (docs/insights.md, "Exactly once"): one row per
-- (org, week, manager) whose email the SMTP server accepted. sendWeeklyInsight checks it before
-- sending (a row: nothing is sent again) and writes it only after the server accepted the message,
-- so a send that failed leaves no row and its retry sends; a crash between acceptance and this
-- write sends again with the same Message-ID, which the recipient's side de-duplicates.
-- ReplacingMergeTree on the key: a second row of one (org, week, manager) (two racing sends) is
-- merged away, and readers use FINAL, so the log has one row per email.
CREATE TABLE IF NOT EXISTS {db:Identifier}.insight_emails_sent
(
    org_id     LowCardinality(String),
    manager_id String,
    week       Date COMMENT 'The Monday of the ISO week of the email, in the org time zone.',
    message_id String COMMENT 'The Message-ID header sent, with its angle brackets: deterministic per (org, manager, week).',
    recipient  String COMMENT 'The address the SMTP server accepted.',
    subject    String,
    sent_at    DateTime64(3, 'UTC') COMMENT 'When the SMTP server accepted the message (the sender clock).'
)
ENGINE = ReplacingMergeTree
ORDER BY (org_id, week, manager_id);
