-- A service token serves an operator-chosen set of accounts, or every account. Tokens issued before this
-- could serve every account, so they keep doing so; new tokens serve only the accounts they are given.
ALTER TABLE "service_tokens" ADD COLUMN "all_accounts" BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE "service_tokens" ALTER COLUMN "all_accounts" SET DEFAULT false;

CREATE TABLE "service_token_accounts" (
    "service_token_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,

    CONSTRAINT "service_token_accounts_pkey" PRIMARY KEY ("service_token_id","account_id")
);

CREATE INDEX "service_token_accounts_account_id_idx" ON "service_token_accounts"("account_id");

ALTER TABLE "service_token_accounts" ADD CONSTRAINT "service_token_accounts_service_token_id_fkey"
    FOREIGN KEY ("service_token_id") REFERENCES "service_tokens"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "service_token_accounts" ADD CONSTRAINT "service_token_accounts_account_id_fkey"
    FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- An idempotent create's answer (which holds the new key's secret) is replayed only to whoever made the
-- create, not to anyone of the account. The records kept so far take their actor from the key's creation
-- in the audit log (written in the same transaction); one without it could not be told apart, and goes.
ALTER TABLE "idempotency_records" ADD COLUMN "actor_type" TEXT, ADD COLUMN "actor_id" TEXT;
UPDATE "idempotency_records" AS r
   SET "actor_type" = a."actor_type", "actor_id" = a."actor_id"
  FROM "audit_log" AS a
 WHERE a."api_key_id" = r."api_key_id" AND a."action" = 'key.created';
DELETE FROM "idempotency_records" WHERE "actor_type" IS NULL OR "actor_id" IS NULL;
ALTER TABLE "idempotency_records" ALTER COLUMN "actor_type" SET NOT NULL, ALTER COLUMN "actor_id" SET NOT NULL;
ALTER TABLE "idempotency_records" DROP CONSTRAINT "idempotency_records_pkey",
    ADD CONSTRAINT "idempotency_records_pkey" PRIMARY KEY ("account_id","actor_type","actor_id","idempotency_key");
