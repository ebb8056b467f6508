-- Call outcomes from Levers webhooks, and why a row got its time zone.
-- Never edit once shipped: add 0003_*.sql.

ALTER TABLE rows ADD COLUMN zone_source TEXT;          -- column | country | default

-- The latest phone_call.ended outcome of a row (the full payloads are in webhook_events).
ALTER TABLE rows ADD COLUMN delivery_status TEXT;      -- pass | fail
ALTER TABLE rows ADD COLUMN provider_status TEXT;
ALTER TABLE rows ADD COLUMN duration_s INTEGER;
ALTER TABLE rows ADD COLUMN call_output TEXT;
ALTER TABLE rows ADD COLUMN sentiment TEXT;
ALTER TABLE rows ADD COLUMN ended_reason TEXT;
ALTER TABLE rows ADD COLUMN summary TEXT;
ALTER TABLE rows ADD COLUMN transcript TEXT;
ALTER TABLE rows ADD COLUMN provider_call_id TEXT;
ALTER TABLE rows ADD COLUMN outcome_at INTEGER;        -- when the webhook was received

-- Every webhook delivery that passed the signature check, matched to a row or not.
CREATE TABLE webhook_events (
    id            INTEGER PRIMARY KEY,
    svix_id       TEXT    NOT NULL UNIQUE,             -- deduplication key
    received_at   INTEGER NOT NULL,
    campaign_id   INTEGER,                             -- NULL when unmatched
    line          INTEGER,
    matched       INTEGER NOT NULL DEFAULT 0,
    event_type    TEXT,
    payload       TEXT    NOT NULL                     -- the raw body as received
);
CREATE INDEX webhook_events_row ON webhook_events(campaign_id, line);
