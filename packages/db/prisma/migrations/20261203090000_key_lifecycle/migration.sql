-- Key lifecycle (issue 15): expiry, rotation with a grace period, per-key rate limits.
-- A rotation keeps the key's row (its id, prefix, limit, spend, audit and usage): only the secret's hash
-- changes, and the hash it replaced stays accepted until previous_secret_expires_at.
ALTER TABLE "api_keys"
    ADD COLUMN "expires_at" TIMESTAMPTZ(3),
    ADD COLUMN "rate_requests_per_minute" INTEGER,
    ADD COLUMN "rate_tokens_per_minute" INTEGER,
    ADD COLUMN "previous_secret_hash" CHAR(64),
    ADD COLUMN "previous_secret_expires_at" TIMESTAMPTZ(3),
    ADD COLUMN "rotated_at" TIMESTAMPTZ(3);

CREATE UNIQUE INDEX "api_keys_previous_secret_hash_key" ON "api_keys"("previous_secret_hash");
