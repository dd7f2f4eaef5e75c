-- Runboard schema 3: points replaced by a later value for the same step (a loop restarted from a
-- checkpoint), per run and metric; and an index so a page of runs sorted by a metric walks the
-- metric's summaries in order instead of sorting every run.
-- Never edit once merged: add a later-numbered file instead.

ALTER TABLE metric_summaries ADD COLUMN replaced INTEGER NOT NULL DEFAULT 0;

CREATE INDEX metric_summaries_by_key_last ON metric_summaries (key_id, last);
