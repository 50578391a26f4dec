-- Usage events the ledger could not write (a value no column holds, a window that would overflow), set
-- aside with their reason instead of failing their whole batch. An operator lists and replays them.
CREATE TABLE "usage_dead_letters" (
    "id" BIGSERIAL NOT NULL,
    "account_id" UUID NOT NULL,
    "event_id" TEXT NOT NULL,
    "api_key_id" UUID NOT NULL,
    "endpoint" TEXT NOT NULL,
    "cost" NUMERIC(20, 0) NOT NULL,
    "occurred_at_ms" BIGINT NOT NULL,
    "reason_code" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "job_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "usage_dead_letters_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "usage_dead_letters_account_id_event_id_key" ON "usage_dead_letters"("account_id", "event_id");
CREATE INDEX "usage_dead_letters_created_at_idx" ON "usage_dead_letters"("created_at");
