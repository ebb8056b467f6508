-- The row-state CHECK of 0006 said `state IN (…nine states…)`. SQLite evaluates an IN list
-- of more than two constants through an ephemeral table that it opens and closes on every
-- INSERT and UPDATE of a row: profiled, a tenth of the ledger writer's time, since every
-- call writes its row three times (ingest, mark, answer). The same closed set as a chain of
-- comparisons costs a few instructions. SQLite cannot alter a CHECK in place, so the table
-- is rebuilt as in 0006, keeping every column and index of 0001-0010. Never edit once
-- shipped.

CREATE TABLE rows_new (
    id               INTEGER PRIMARY KEY,
    campaign_id      INTEGER NOT NULL REFERENCES campaigns(id),
    line             INTEGER NOT NULL,
    state            TEXT    NOT NULL CHECK (state = 'pending' OR state = 'in_flight'
                         OR state = 'succeeded' OR state = 'failed' OR state = 'retry_wait'
                         OR state = 'uncertain' OR state = 'skipped' OR state = 'expired'
                         OR state = 'cancelled'),
    reason           TEXT,
    detail           TEXT,
    e164             TEXT,
    dial_key         TEXT,
    duplicate_of     INTEGER,
    request          TEXT,
    raw              TEXT,
    timezone         TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER,
    http_status      INTEGER,
    error            TEXT,
    response         TEXT,
    call_id          TEXT,
    first_attempt_at INTEGER,
    last_attempt_at  INTEGER,
    latency_ms       INTEGER,
    zone_source      TEXT,
    delivery_status  TEXT,
    provider_status  TEXT,
    duration_s       INTEGER,
    call_output      TEXT,
    sentiment        TEXT,
    ended_reason     TEXT,
    summary          TEXT,
    transcript       TEXT,
    provider_call_id TEXT,
    outcome_at       INTEGER,
    contact          TEXT,
    redial_closed    INTEGER,
    alt_numbers      TEXT
);

INSERT INTO rows_new (id, campaign_id, line, state, reason, detail, e164, dial_key,
    duplicate_of, request, raw, timezone, attempts, next_attempt_at, http_status, error,
    response, call_id, first_attempt_at, last_attempt_at, latency_ms, zone_source,
    delivery_status, provider_status, duration_s, call_output, sentiment, ended_reason,
    summary, transcript, provider_call_id, outcome_at, contact, redial_closed, alt_numbers)
SELECT id, campaign_id, line, state, reason, detail, e164, dial_key,
    duplicate_of, request, raw, timezone, attempts, next_attempt_at, http_status, error,
    response, call_id, first_attempt_at, last_attempt_at, latency_ms, zone_source,
    delivery_status, provider_status, duration_s, call_output, sentiment, ended_reason,
    summary, transcript, provider_call_id, outcome_at, contact, redial_closed, alt_numbers
FROM rows;

DROP TABLE rows;
ALTER TABLE rows_new RENAME TO rows;

CREATE UNIQUE INDEX rows_line ON rows(campaign_id, line);
CREATE UNIQUE INDEX rows_dial_key ON rows(campaign_id, dial_key) WHERE dial_key IS NOT NULL;
CREATE INDEX rows_state ON rows(campaign_id, state, line);
CREATE INDEX rows_retry ON rows(campaign_id, next_attempt_at) WHERE state = 'retry_wait';
CREATE INDEX rows_outcome ON rows(campaign_id) WHERE outcome_at IS NOT NULL;
CREATE INDEX rows_undelivered ON rows(campaign_id)
    WHERE state = 'succeeded' AND delivery_status = 'fail' AND redial_closed IS NULL;
CREATE INDEX rows_awaiting ON rows(campaign_id, last_attempt_at)
    WHERE state = 'succeeded' AND outcome_at IS NULL;
