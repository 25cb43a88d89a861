-- The counted points are derived data: emptied here with their histogram and sync state, so the
-- leaderboard job's next run counts everyone again into the new shape.
DELETE FROM "leaderboard_points";
DELETE FROM "leaderboard_histogram";
DELETE FROM "leaderboard_sync";

-- DropIndex
DROP INDEX "leaderboard_points_period_points_handle_idx";

-- AlterTable
ALTER TABLE "leaderboard_points" DROP CONSTRAINT "leaderboard_points_pkey",
DROP COLUMN "period",
DROP COLUMN "points",
ADD COLUMN     "all_time" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "daily" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "weekly" INTEGER NOT NULL DEFAULT 0,
ADD CONSTRAINT "leaderboard_points_pkey" PRIMARY KEY ("user_id");

-- CreateIndex
CREATE INDEX "leaderboard_points_all_time_handle_idx" ON "leaderboard_points"("all_time" DESC, "handle");

-- CreateIndex
CREATE INDEX "leaderboard_points_weekly_handle_idx" ON "leaderboard_points"("weekly" DESC, "handle");

-- CreateIndex
CREATE INDEX "leaderboard_points_daily_handle_idx" ON "leaderboard_points"("daily" DESC, "handle");
