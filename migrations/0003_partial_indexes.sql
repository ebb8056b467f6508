-- Indexes for the few rows that matter on a large campaign. Never edit once shipped.

-- Attempts left open by a process that died: recover_in_flight looks only at these,
-- instead of walking a million finished attempts at every start.
CREATE INDEX attempts_open ON attempts(campaign_id) WHERE ended_at IS NULL;

-- Rows with a webhook outcome: the summary's outcome counts read only these.
CREATE INDEX rows_outcome ON rows(campaign_id) WHERE outcome_at IS NOT NULL;
