-- The aggregates keep a row per key per UTC day and per UTC month only; a week is read as the sum of its
-- day rows and the lifetime as the sum of the month rows (half the rows written per event). The week and
-- lifetime rows written before are no longer read.
DELETE FROM "key_usage" WHERE "window_kind" IN ('week', 'lifetime');
