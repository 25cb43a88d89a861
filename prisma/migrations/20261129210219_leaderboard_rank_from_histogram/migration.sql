-- A rank reads the counted points and the histogram the same job run wrote: the per-run copy of
-- each period's distribution (leaderboard_scores) goes. The weekly and daily top indexes hold
-- only users with points in that window.

-- DropForeignKey
ALTER TABLE "leaderboard_scores" DROP CONSTRAINT "leaderboard_scores_period_computed_at_fkey";

-- DropIndex
DROP INDEX "leaderboard_points_daily_handle_idx";

-- DropIndex
DROP INDEX "leaderboard_points_weekly_handle_idx";

-- DropTable
DROP TABLE "leaderboard_scores";

-- CreateIndex
CREATE INDEX "leaderboard_points_weekly_handle_idx" ON "leaderboard_points"("weekly" DESC, "handle") WHERE (weekly > 0);

-- CreateIndex
CREATE INDEX "leaderboard_points_daily_handle_idx" ON "leaderboard_points"("daily" DESC, "handle") WHERE (daily > 0);
