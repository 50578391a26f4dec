-- CreateTable
CREATE TABLE "service_tokens" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" VARCHAR(8) NOT NULL,
    "secret_hash" CHAR(64) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "service_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "usage_events" (
    "account_id" UUID NOT NULL,
    "event_id" TEXT NOT NULL,
    "api_key_id" UUID NOT NULL,
    "endpoint" TEXT NOT NULL,
    "cost" BIGINT NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "ingested_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "usage_events_pkey" PRIMARY KEY ("account_id","event_id")
);

-- CreateTable
CREATE TABLE "key_blocks" (
    "api_key_id" UUID NOT NULL,
    "window_kind" TEXT NOT NULL,
    "window_start" TIMESTAMPTZ(3) NOT NULL,
    "window_end" TIMESTAMPTZ(3),
    "spend" BIGINT NOT NULL,
    "threshold" BIGINT NOT NULL,
    "blocked_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "key_blocks_pkey" PRIMARY KEY ("api_key_id","window_kind","window_start")
);

-- AlterTable
ALTER TABLE "audit_log" ADD COLUMN "details" JSONB;

-- CreateIndex
CREATE UNIQUE INDEX "service_tokens_prefix_key" ON "service_tokens"("prefix");

-- CreateIndex
CREATE UNIQUE INDEX "service_tokens_secret_hash_key" ON "service_tokens"("secret_hash");

-- CreateIndex
CREATE INDEX "usage_events_api_key_id_occurred_at_idx" ON "usage_events"("api_key_id", "occurred_at");

-- CreateIndex
CREATE INDEX "key_blocks_window_end_idx" ON "key_blocks"("window_end");
