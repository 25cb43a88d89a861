-- AlterTable
ALTER TABLE "chain_transactions" ADD COLUMN     "nonce" INTEGER,
ADD COLUMN     "raw" TEXT;
