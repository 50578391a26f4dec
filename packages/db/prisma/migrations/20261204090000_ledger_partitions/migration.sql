-- The ledger over years (issue 20): usage_events becomes a table RANGE-partitioned by the UTC month of
-- occurred_at, so a month past the retention is dropped whole (DETACH ... CONCURRENTLY, then DROP TABLE)
-- instead of deleted row by row, and ingest on a big ledger touches only the indexes of recent months.
--
-- PostgreSQL requires a partitioned table's unique key to contain the partition key. Partitioning by
-- occurred_at itself would make the key (account_id, event_id, occurred_at): the same event resent with
-- another timestamp in the same month would count twice. So the partition key is a stored column,
-- occurred_month (the UTC month start of occurred_at, written by the worker from the domain's window rule,
-- and held to it by a CHECK), and the key is (account_id, event_id, occurred_month): a resend in the same
-- month is a conflict as before. A resend in another month is caught by the writing statement's look into
-- the neighbouring months (docs/metering.md, "Exactly once across months").
--
-- Every existing row is moved. The old table is locked for the copy (ingest waits; its events stay queued
-- in Redis and the workers retry), so no row written meanwhile can be missed. The partitions: every month
-- that has rows, and the current month and the two after it (the worker's upkeep keeps months ahead).
-- There is no DEFAULT partition: DETACH ... CONCURRENTLY refuses to run while one exists. An event for a
-- month without a partition is refused by PostgreSQL (SQLSTATE 23514) and set aside as a dead letter.
SET LOCAL TimeZone = 'UTC';

LOCK TABLE "usage_events" IN ACCESS EXCLUSIVE MODE;
ALTER TABLE "usage_events" RENAME TO "usage_events_unpartitioned";
ALTER TABLE "usage_events_unpartitioned" RENAME CONSTRAINT "usage_events_pkey" TO "usage_events_unpartitioned_pkey";

CREATE TABLE "usage_events" (
    "account_id" UUID NOT NULL,
    "event_id" TEXT NOT NULL,
    "api_key_id" UUID NOT NULL,
    "endpoint" TEXT NOT NULL,
    "cost" BIGINT NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "ingested_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "model" TEXT,
    "input_tokens" INTEGER NOT NULL DEFAULT 0,
    "output_tokens" INTEGER NOT NULL DEFAULT 0,
    "failed" BOOLEAN NOT NULL DEFAULT false,
    "service_token_id" UUID,
    "occurred_month" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "usage_events_occurred_month_check"
        CHECK ("occurred_month" = date_trunc('month', "occurred_at" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')
) PARTITION BY RANGE ("occurred_month");

DO $$
DECLARE
  month_start timestamp;
BEGIN
  FOR month_start IN
    SELECT DISTINCT date_trunc('month', "occurred_at" AT TIME ZONE 'UTC') FROM "usage_events_unpartitioned"
    UNION
    SELECT date_trunc('month', now() AT TIME ZONE 'UTC') + step * interval '1 month' FROM generate_series(0, 2) AS step
  LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF "usage_events" FOR VALUES FROM (%L) TO (%L)',
                   'usage_events_' || to_char(month_start, 'YYYY_MM'),
                   month_start AT TIME ZONE 'UTC', (month_start + interval '1 month') AT TIME ZONE 'UTC');
  END LOOP;
END $$;

INSERT INTO "usage_events" ("account_id", "event_id", "api_key_id", "endpoint", "cost", "occurred_at", "ingested_at",
                            "model", "input_tokens", "output_tokens", "failed", "service_token_id", "occurred_month")
SELECT "account_id", "event_id", "api_key_id", "endpoint", "cost", "occurred_at", "ingested_at",
       "model", "input_tokens", "output_tokens", "failed", "service_token_id",
       date_trunc('month', "occurred_at" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
  FROM "usage_events_unpartitioned";

-- Built after the copy: one index build per partition is faster than maintaining the index row by row.
ALTER TABLE "usage_events" ADD CONSTRAINT "usage_events_pkey" PRIMARY KEY ("account_id", "event_id", "occurred_month");

DROP TABLE "usage_events_unpartitioned";

-- The months the worker's upkeep dropped past KEYFENCE_LEDGER_RETENTION_MONTHS, recorded before each drop:
-- the write path creates a missing month's partition on demand, but never one of these or older, so an event
-- of a dropped month (whose ids are forgotten) is set aside instead of being counted a second time.
CREATE TABLE "ledger_dropped_months" (
    "month_start" TIMESTAMPTZ(3) NOT NULL,
    "recorded_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "dropped_at" TIMESTAMPTZ(3),

    CONSTRAINT "ledger_dropped_months_pkey" PRIMARY KEY ("month_start")
);
