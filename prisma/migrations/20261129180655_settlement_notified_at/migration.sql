-- A closure's notifications leave its closing transaction (issue #9): the settlement is the
-- outbox event, notified_at says its participants were told. Every settlement made before this
-- migration was told in its closing transaction.

-- AlterTable
ALTER TABLE "case_settlements" ADD COLUMN     "notified_at" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "case_settlements_unnotified_idx" ON "case_settlements"("created_at") WHERE (notified_at IS NULL);

-- Settled before: told already.
UPDATE "case_settlements" SET "notified_at" = "created_at";
