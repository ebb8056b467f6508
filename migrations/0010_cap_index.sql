-- The daily cap's index, keyed by the number alone. Keyed by (number, time) as in 0009,
-- every attempt's entry moved twice: once at the mark, and again when the result rewrote
-- `started_at` with the moment the request really left. A number has a handful of
-- attempts, so the cap's read sorts them itself. Never edit once shipped.
DROP INDEX attempts_number;
CREATE INDEX attempts_e164 ON attempts(e164) WHERE e164 IS NOT NULL;
