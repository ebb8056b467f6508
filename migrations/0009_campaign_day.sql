-- A campaign over a day: the daily cap per number, redials, secondary numbers, and
-- lifting a pause.
-- Never edit once shipped.

-- The number each attempt dialed, so the cap (`--max-calls-per-day`, across every
-- campaign) is one indexed range read on (number, time) at the moment of marking.
ALTER TABLE attempts ADD COLUMN e164 TEXT;
UPDATE attempts SET e164 = (SELECT r.e164 FROM rows r
                            WHERE r.campaign_id = attempts.campaign_id AND r.line = attempts.line);
CREATE INDEX attempts_number ON attempts(e164, started_at) WHERE e164 IS NOT NULL;

-- 1 once a row's undelivered call can get no redial (it reached --max-calls), so the
-- redial scheduler's index holds only rows it may still act on.
ALTER TABLE rows ADD COLUMN redial_closed INTEGER;
CREATE INDEX rows_undelivered ON rows(campaign_id)
    WHERE state = 'succeeded' AND delivery_status = 'fail' AND redial_closed IS NULL;
-- Placed calls still waiting for their webhook: what keeps a redialing run alive.
CREATE INDEX rows_awaiting ON rows(campaign_id, last_attempt_at)
    WHERE state = 'succeeded' AND outcome_at IS NULL;

-- Secondary numbers: the ones a row has not tried yet (a JSON array, in order), and every
-- secondary number of the campaign, so a number is dialed for one row only: `dial_key`
-- covers the rows' first numbers, this table the others.
ALTER TABLE rows ADD COLUMN alt_numbers TEXT;
CREATE TABLE row_numbers (
    campaign_id INTEGER NOT NULL,
    e164        TEXT    NOT NULL,
    line        INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, e164)
) WITHOUT ROWID;

-- `dialer resume` lifts a pause: until then the next `run` refuses to start. A pause is a
-- request row (0007); lifting it is a time on that row, so who paused stays readable.
ALTER TABLE controls ADD COLUMN lifted_at INTEGER;
