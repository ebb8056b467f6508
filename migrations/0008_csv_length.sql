-- What a later run of a campaign compares its files with. Never edit once shipped.

-- The byte length of the file a campaign was started from, beside its SHA-256: a file that
-- only grew at its end still hashes to the stored value over its first csv_bytes bytes,
-- and its new rows continue the campaign. NULL for campaigns started before this, whose
-- file must match whole (once) as before.
ALTER TABLE campaigns ADD COLUMN csv_bytes INTEGER;

-- One SHA-256 over the contents of the campaign's do-not-call lists, as its rows were last
-- planned: a list edited since (same path, new numbers) re-plans the rows not yet dialed.
-- NULL without lists, or for campaigns planned before this.
ALTER TABLE campaigns ADD COLUMN suppress_sha256 TEXT;
