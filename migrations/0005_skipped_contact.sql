-- What a skipped row said about its contact (names, e-mail, tags, metadata), in the shape
-- of a request body, so a report can name whom the row was about even though no request
-- was ever built for it. NULL for dialed rows (their request says it) and malformed rows.
-- Never edit once shipped.

ALTER TABLE rows ADD COLUMN contact TEXT;
