-- Requests to pause or cancel a campaign, written by the dashboard (and later by
-- `dialer pause` / `dialer cancel`) and handled by the dispatcher that runs the campaign.
-- A request is a row, never an update of the campaign, so two processes never race on one
-- field and the history of who asked for what stays readable.
CREATE TABLE IF NOT EXISTS controls (
    id           INTEGER PRIMARY KEY,
    campaign_id  INTEGER NOT NULL REFERENCES campaigns(id),
    action       TEXT    NOT NULL CHECK (action IN ('pause', 'cancel')),
    requested_by TEXT    NOT NULL,        -- user@host of whoever asked
    requested_at INTEGER NOT NULL,        -- unix ms
    handled_at   INTEGER                  -- unix ms when a dispatcher acted on it; NULL while open
);

-- A dispatcher polls for its campaign's open requests; keep that lookup cheap.
CREATE INDEX IF NOT EXISTS controls_open ON controls (campaign_id, id) WHERE handled_at IS NULL;
