-- Row states become a closed set: the table is rebuilt with a CHECK constraint (SQLite
-- cannot add one to an existing column), keeping every column and index of 0001-0005.
-- `expired` and `cancelled` are SPEC.md's states for rows never sent. Never edit once
-- shipped.

CREATE TABLE rows_new (
    id               INTEGER PRIMARY KEY,
    campaign_id      INTEGER NOT NULL REFERENCES campaigns(id),
    line             INTEGER NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('pending', 'in_flight', 'succeeded',
                         'failed', 'retry_wait', 'uncertain', 'skipped', 'expired',
                         'cancelled')),
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
    contact          TEXT
);

INSERT INTO rows_new (id, campaign_id, line, state, reason, detail, e164, dial_key,
    duplicate_of, request, raw, timezone, attempts, next_attempt_at, http_status, error,
    response, call_id, first_attempt_at, last_attempt_at, latency_ms, zone_source,
    delivery_status, provider_status, duration_s, call_output, sentiment, ended_reason,
    summary, transcript, provider_call_id, outcome_at, contact)
SELECT id, campaign_id, line, state, reason, detail, e164, dial_key,
    duplicate_of, request, raw, timezone, attempts, next_attempt_at, http_status, error,
    response, call_id, first_attempt_at, last_attempt_at, latency_ms, zone_source,
    delivery_status, provider_status, duration_s, call_output, sentiment, ended_reason,
    summary, transcript, provider_call_id, outcome_at, contact
FROM rows;

DROP TABLE rows;
ALTER TABLE rows_new RENAME TO rows;

CREATE UNIQUE INDEX rows_line ON rows(campaign_id, line);
CREATE UNIQUE INDEX rows_dial_key ON rows(campaign_id, dial_key) WHERE dial_key IS NOT NULL;
CREATE INDEX rows_state ON rows(campaign_id, state, line);
CREATE INDEX rows_retry ON rows(campaign_id, next_attempt_at) WHERE state = 'retry_wait';
CREATE INDEX rows_outcome ON rows(campaign_id) WHERE outcome_at IS NOT NULL;

-- The lease names its holder by pid *and* the process's start time, so a live holder is
-- recognised whatever its heartbeat or the clocks say, and a reused pid is not.
ALTER TABLE leases ADD COLUMN holder_start TEXT;
