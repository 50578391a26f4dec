-- Usage events carry their model, tokens, outcome and the service token that sent them (issue 13; issue 12
-- item 5). Every column has a constant default or none, so PostgreSQL adds them without rewriting the ledger.
ALTER TABLE "usage_events"
    ADD COLUMN "model" TEXT,
    ADD COLUMN "input_tokens" INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN "output_tokens" INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN "failed" BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN "service_token_id" UUID;

-- Spend, requests and tokens per key, model and UTC quarter hour: what /v2/usage and /v2/usage/detail read.
-- A quarter hour because every UTC offset in use is a whole number of them, so a day in any time zone is a
-- whole number of rows. The primary key carries the counters (INCLUDE) so a 92-day report is an index-only
-- scan: a key's rows are spread over the heap among every other key's.
CREATE TABLE "key_model_usage" (
    "api_key_id" UUID NOT NULL,
    "bucket_start" TIMESTAMPTZ(3) NOT NULL,
    "model" TEXT NOT NULL,
    "spend" BIGINT NOT NULL DEFAULT 0,
    "requests" BIGINT NOT NULL DEFAULT 0,
    "failed" BIGINT NOT NULL DEFAULT 0,
    "input_tokens" BIGINT NOT NULL DEFAULT 0,
    "output_tokens" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "key_model_usage_pkey" PRIMARY KEY ("api_key_id", "bucket_start", "model")
        INCLUDE ("spend", "requests", "failed", "input_tokens", "output_tokens")
);

-- The events already in the ledger, under the model name reports give events without one ('unknown',
-- UNKNOWN_MODEL in the domain package).
INSERT INTO "key_model_usage" ("api_key_id", "bucket_start", "model", "spend", "requests")
SELECT "api_key_id",
       to_timestamp(floor(extract(epoch FROM "occurred_at") / 900) * 900),
       'unknown',
       sum("cost"),
       count(*)
  FROM "usage_events"
 GROUP BY 1, 2;

-- Its only reader was GET /v2/usage, which now reads key_model_usage; every ingested event paid for it.
DROP INDEX "usage_events_api_key_id_occurred_at_idx";
