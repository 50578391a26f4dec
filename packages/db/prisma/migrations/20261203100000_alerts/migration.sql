-- Alerts (issue 16): webhook endpoints per account, an outbox of events written in the transactions that
-- cause them, and one delivery row per event and endpoint.

-- The percentages of a key's limit at which key.threshold_crossed is announced.
ALTER TABLE "api_keys" ADD COLUMN "alert_thresholds" SMALLINT[] NOT NULL DEFAULT '{50,80,100}';

CREATE TABLE "webhook_endpoints" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "account_id" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    -- Empty: every event type.
    "event_types" TEXT[] NOT NULL DEFAULT '{}',
    -- The signing secret, AES-256-GCM (12-byte IV, 16-byte tag, ciphertext): it must be usable to sign.
    "secret_sealed" BYTEA NOT NULL,
    -- After a rotation the old secret also signs for 24 hours, so receivers can switch without losing events.
    "previous_secret_sealed" BYTEA,
    "previous_secret_expires_at" TIMESTAMPTZ(3),
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    -- 'user' (disabled by the account) or 'failing' (every delivery failed for 5 days).
    "disabled_reason" TEXT,
    "failing_since" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "webhook_endpoints_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "webhook_endpoints_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "webhook_endpoints_account_id_created_at_idx" ON "webhook_endpoints"("account_id", "created_at");

-- The outbox: every event once, with its stable id (the `webhook-id` of its deliveries). A threshold
-- crossing carries a dedupe key (key, percentage, window kind, window start), so however many workers,
-- retries and batches see it, it is written once.
CREATE TABLE "webhook_events" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "seq" BIGSERIAL NOT NULL,
    "account_id" UUID NOT NULL,
    "api_key_id" UUID,
    "type" TEXT NOT NULL,
    "dedupe_key" TEXT,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT clock_timestamp(),
    "relayed_at" TIMESTAMPTZ(3),

    CONSTRAINT "webhook_events_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "webhook_events_dedupe_key_key" ON "webhook_events"("dedupe_key");
CREATE UNIQUE INDEX "webhook_events_seq_key" ON "webhook_events"("seq");
CREATE INDEX "webhook_events_unrelayed_idx" ON "webhook_events"("seq") WHERE "relayed_at" IS NULL;
CREATE INDEX "webhook_events_account_id_created_at_idx" ON "webhook_events"("account_id", "created_at");

-- One row per event and endpoint: the delivery log.
CREATE TABLE "webhook_deliveries" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "endpoint_id" UUID NOT NULL,
    "event_id" UUID NOT NULL,
    -- 'pending' | 'succeeded' | 'failed' (retries exhausted) | 'skipped' (endpoint disabled or deleted)
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_status_code" INTEGER,
    "last_latency_ms" INTEGER,
    "last_error" TEXT,
    "last_attempt_at" TIMESTAMPTZ(3),
    "next_attempt_at" TIMESTAMPTZ(3),
    "delivered_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "webhook_deliveries_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "webhook_deliveries_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "webhook_events"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "webhook_deliveries_endpoint_id_event_id_key" ON "webhook_deliveries"("endpoint_id", "event_id");
CREATE INDEX "webhook_deliveries_endpoint_id_created_at_idx" ON "webhook_deliveries"("endpoint_id", "created_at");
-- The relay's sweep: deliveries never attempted (a relay that stopped between its commit and its enqueue).
CREATE INDEX "webhook_deliveries_unattempted_idx" ON "webhook_deliveries"("created_at", "id") WHERE "status" = 'pending' AND "attempts" = 0;
