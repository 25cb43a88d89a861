-- AlterTable
ALTER TABLE "rewards" ADD COLUMN     "payout_address" VARCHAR(42);

-- Added by hand. Rewards waiting for a payout keep the wallet they were made for: until now the
-- payout job read the user's wallet when it paid, so the user's wallet today is that address.
-- No wallet could be unlinked before this migration, so every such reward finds one.
UPDATE "rewards" r SET "payout_address" = u."wallet_address"
FROM "users" u
WHERE u."id" = r."user_id" AND r."status" IN ('PENDING', 'PROCESSING', 'FAILED') AND u."wallet_address" IS NOT NULL;

-- A PENDING reward of a user without a wallet (only a database edited by hand holds one) is
-- credited off-chain, as a reward made without a wallet is.
WITH "credited" AS (
  UPDATE "rewards" SET "status" = 'COMPLETED', "completed_at" = now()
  WHERE "status" = 'PENDING' AND "payout_address" IS NULL
  RETURNING "user_id", "amount"
)
UPDATE "users" u SET "total_points" = u."total_points" + c."points", "updated_at" = now()
FROM (SELECT "user_id", sum("amount")::int AS "points" FROM "credited" GROUP BY "user_id") c
WHERE u."id" = c."user_id";

-- Every reward not yet credited has the address it is paid to; only off-chain credits have none.
ALTER TABLE "rewards"
  ADD CONSTRAINT "rewards_payout_address_format_check" CHECK ("payout_address" ~ '^0x[0-9a-fA-F]{40}$'),
  ADD CONSTRAINT "rewards_payout_address_check" CHECK ("status" = 'COMPLETED' OR "payout_address" IS NOT NULL);
