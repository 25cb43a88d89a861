-- leaderboard_points is derived data: emptied here, the leaderboard job's next run rebuilds it
-- (with handles) from scratch, as it does daily. Snapshots and cached tops stay valid meanwhile.
DELETE FROM "leaderboard_sync";
TRUNCATE "leaderboard_points", "leaderboard_histogram";

-- DropIndex
DROP INDEX "leaderboard_points_period_points_idx";

-- AlterTable
ALTER TABLE "leaderboard_points" ADD COLUMN     "handle" TEXT NOT NULL;

-- CreateIndex
CREATE INDEX "leaderboard_points_period_points_handle_idx" ON "leaderboard_points"("period", "points" DESC, "handle");
