-- CreateEnum
CREATE TYPE "SettlementOutcome" AS ENUM ('SETTLED', 'VOID');

-- AlterEnum
ALTER TYPE "ChainTxKind" ADD VALUE 'REVEAL';

-- AlterTable
ALTER TABLE "case_settlements" ADD COLUMN     "outcome" "SettlementOutcome" NOT NULL DEFAULT 'SETTLED',
ADD COLUMN     "reason" TEXT;

-- AlterTable
ALTER TABLE "cases" ADD COLUMN     "reveal_after" TIMESTAMPTZ(3),
ADD COLUMN     "reveal_tx_id" UUID;

-- AlterTable
ALTER TABLE "chain_transactions" ADD COLUMN     "block_timestamp" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "users" ADD COLUMN     "ledger_salt" BYTEA NOT NULL DEFAULT (decode(replace((gen_random_uuid())::text, '-'::text, ''::text), 'hex'::text) || decode(replace((gen_random_uuid())::text, '-'::text, ''::text), 'hex'::text));

-- CreateTable
CREATE TABLE "case_ledgers" (
    "case_id" UUID NOT NULL,
    "root" CHAR(66) NOT NULL,
    "leaf_count" INTEGER NOT NULL,
    "nodes" BYTEA NOT NULL,
    "built_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "case_ledgers_pkey" PRIMARY KEY ("case_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "cases_reveal_tx_id_key" ON "cases"("reveal_tx_id");

-- AddForeignKey
ALTER TABLE "cases" ADD CONSTRAINT "cases_reveal_tx_id_fkey" FOREIGN KEY ("reveal_tx_id") REFERENCES "chain_transactions"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "case_ledgers" ADD CONSTRAINT "case_ledgers_case_id_fkey" FOREIGN KEY ("case_id") REFERENCES "cases"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written: a ledger salt is 32 bytes; a VOID settlement pays nothing and says why.
ALTER TABLE "users" ADD CONSTRAINT "users_ledger_salt_length_check" CHECK (octet_length("ledger_salt") = 32);
ALTER TABLE "case_settlements" ADD CONSTRAINT "case_settlements_void_check"
  CHECK ("outcome" = 'SETTLED' OR ("paid" = 0 AND "treasury" = "pool" AND "reason" IS NOT NULL));
