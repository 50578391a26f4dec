-- A dead letter keeps everything its event said, so a replay writes the event as it came: the model, the
-- token counts, a failed call's status and the service token that sent it (added to the ledger after the
-- dead letters were).
ALTER TABLE "usage_dead_letters"
    ADD COLUMN "model" TEXT,
    ADD COLUMN "input_tokens" INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN "output_tokens" INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN "failed" BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN "service_token_id" UUID;
