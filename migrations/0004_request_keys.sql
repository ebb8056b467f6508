-- The metadata and prompt-tag keys a campaign's requests carry, recorded once at ingest so
-- a CSV report's header costs one small read instead of parsing every stored request.
-- Never edit once shipped.

CREATE TABLE request_keys (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    kind        TEXT    NOT NULL CHECK (kind IN ('metadata', 'tag')),
    key         TEXT    NOT NULL,
    PRIMARY KEY (campaign_id, kind, key)
) WITHOUT ROWID;

-- Ledgers made before this migration: read the keys from the stored requests once.
INSERT OR IGNORE INTO request_keys (campaign_id, kind, key)
SELECT DISTINCT r.campaign_id,
       CASE j.path WHEN '$.metadata' THEN 'metadata' ELSE 'tag' END,
       j.key
FROM rows r, json_tree(r.request) j
WHERE r.request IS NOT NULL AND json_valid(r.request)
  AND j.path IN ('$.metadata', '$.promptTags');
