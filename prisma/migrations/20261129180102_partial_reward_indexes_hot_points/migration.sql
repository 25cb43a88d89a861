-- Closure write cost (issue #9): the payout queue's and the payout transaction's indexes on
-- rewards hold only the rows they serve (most rewards are credited at once and never enter the
-- queue), badge_award_id's unique index only badge bonuses, and users(total_points, handle), read
-- by nothing since the leaderboard keeps its own table, goes: with updated_at no longer moved by
-- a credit, crediting points changes no indexed column of users (a HOT update).

-- DropIndex
DROP INDEX "rewards_badge_award_id_key";

-- DropIndex
DROP INDEX "rewards_payout_tx_id_idx";

-- DropIndex
DROP INDEX "rewards_status_created_at_idx";

-- DropIndex
DROP INDEX "users_total_points_handle_idx";

-- CreateIndex
CREATE UNIQUE INDEX "rewards_badge_award_id_key" ON "rewards"("badge_award_id") WHERE (badge_award_id IS NOT NULL);

-- CreateIndex
CREATE INDEX "rewards_status_created_at_idx" ON "rewards"("status", "created_at") WHERE (status = ANY (ARRAY['PENDING'::"RewardStatus", 'PROCESSING'::"RewardStatus"]));

-- CreateIndex
CREATE INDEX "rewards_payout_tx_id_idx" ON "rewards"("payout_tx_id") WHERE (payout_tx_id IS NOT NULL);
