-- The first schema of the ledger. Never edit this file once shipped: add 0002_*.sql.
-- Times are unix milliseconds (UTC); reports render them as RFC 3339.

CREATE TABLE campaigns (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    csv_path    TEXT    NOT NULL,
    csv_sha256  TEXT    NOT NULL,
    settings    TEXT    NOT NULL,            -- JSON of the settings used; never a secret
    created_at  INTEGER NOT NULL,
    started_at  INTEGER,                     -- latest dispatch start
    finished_at INTEGER,                     -- latest dispatch end
    ingested    INTEGER NOT NULL DEFAULT 0,  -- 1 once every CSV record is in `rows`
    total_rows  INTEGER
);

CREATE TABLE rows (
    id               INTEGER PRIMARY KEY,
    campaign_id      INTEGER NOT NULL REFERENCES campaigns(id),
    line             INTEGER NOT NULL,       -- physical CSV line where the record starts
    state            TEXT    NOT NULL,       -- pending in_flight succeeded failed retry_wait uncertain skipped
    reason           TEXT,                   -- skip reason, or why a row failed
    detail           TEXT,                   -- one human sentence about the reason
    e164             TEXT,
    dial_key         TEXT,                   -- e164 of a row meant to be dialed; unique: deduplication
    duplicate_of     INTEGER,                -- line of the earlier row a duplicate repeats
    request          TEXT,                   -- the JSON body sent (or to be sent)
    raw              TEXT,                   -- the raw record of a malformed row
    timezone         TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER,
    http_status      INTEGER,
    error            TEXT,
    response         TEXT,                   -- 2xx body, truncated to 4 KiB
    call_id          TEXT,
    first_attempt_at INTEGER,
    last_attempt_at  INTEGER,
    latency_ms       INTEGER
);
CREATE UNIQUE INDEX rows_line ON rows(campaign_id, line);
CREATE UNIQUE INDEX rows_dial_key ON rows(campaign_id, dial_key) WHERE dial_key IS NOT NULL;
CREATE INDEX rows_state ON rows(campaign_id, state, line);
CREATE INDEX rows_retry ON rows(campaign_id, next_attempt_at) WHERE state = 'retry_wait';

-- One row per request that left (or was about to leave) for a row.
CREATE TABLE attempts (
    id          INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL,
    line        INTEGER NOT NULL,
    attempt     INTEGER NOT NULL,            -- the row's attempt number (a 429 does not spend one)
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    http_status INTEGER,
    class       TEXT,                        -- success permanent auth throttled retryable uncertain interrupted requeued
    error       TEXT,
    latency_ms  INTEGER
);
CREATE INDEX attempts_row ON attempts(campaign_id, line);

-- Who is dispatching a campaign right now (one process at a time).
CREATE TABLE leases (
    campaign_id  INTEGER PRIMARY KEY,
    holder_pid   INTEGER NOT NULL,
    holder_host  TEXT    NOT NULL,
    token        TEXT    NOT NULL,
    acquired_at  INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
);
