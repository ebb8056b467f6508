-- The byte length of the file a campaign was started from, beside its SHA-256: a file that
-- only grew at its end still hashes to the stored value over its first csv_bytes bytes,
-- and its new rows continue the campaign. NULL for campaigns started before this, whose
-- file must match whole as before. Never edit once shipped.

ALTER TABLE campaigns ADD COLUMN csv_bytes INTEGER;
