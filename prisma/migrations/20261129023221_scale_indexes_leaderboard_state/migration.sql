-- DropIndex
DROP INDEX "votes_user_id_created_at_idx";

-- CreateTable
CREATE TABLE "leaderboard_points" (
    "period" "LeaderboardPeriod" NOT NULL,
    "user_id" UUID NOT NULL,
    "points" INTEGER NOT NULL,

    CONSTRAINT "leaderboard_points_pkey" PRIMARY KEY ("period","user_id")
);

-- CreateTable
CREATE TABLE "leaderboard_histogram" (
    "period" "LeaderboardPeriod" NOT NULL,
    "points" INTEGER NOT NULL,
    "users" INTEGER NOT NULL,

    CONSTRAINT "leaderboard_histogram_pkey" PRIMARY KEY ("period","points")
);

-- CreateTable
CREATE TABLE "leaderboard_sync" (
    "period" "LeaderboardPeriod" NOT NULL,
    "synced_at" TIMESTAMPTZ(3) NOT NULL,
    "rebuilt_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "leaderboard_sync_pkey" PRIMARY KEY ("period")
);

-- CreateTable
CREATE TABLE "leaderboard_snapshots" (
    "period" "LeaderboardPeriod" NOT NULL,
    "computed_at" TIMESTAMPTZ(3) NOT NULL,
    "ranked_users" INTEGER NOT NULL,

    CONSTRAINT "leaderboard_snapshots_pkey" PRIMARY KEY ("period","computed_at")
);

-- CreateTable
CREATE TABLE "leaderboard_scores" (
    "period" "LeaderboardPeriod" NOT NULL,
    "computed_at" TIMESTAMPTZ(3) NOT NULL,
    "points" INTEGER NOT NULL,
    "at_or_above" INTEGER NOT NULL,

    CONSTRAINT "leaderboard_scores_pkey" PRIMARY KEY ("period","computed_at","points")
);

-- CreateIndex
CREATE INDEX "leaderboard_points_period_points_idx" ON "leaderboard_points"("period", "points" DESC);

-- CreateIndex
CREATE INDEX "arguments_created_at_idx" ON "arguments"("created_at");

-- CreateIndex
CREATE INDEX "cases_closed_at_idx" ON "cases"("closed_at");

-- CreateIndex
CREATE INDEX "users_updated_at_idx" ON "users"("updated_at");

-- CreateIndex
CREATE INDEX "votes_user_id_created_at_case_id_side_idx" ON "votes"("user_id", "created_at", "case_id", "side");

-- CreateIndex
CREATE INDEX "votes_created_at_idx" ON "votes"("created_at");

-- AddForeignKey
ALTER TABLE "leaderboard_scores" ADD CONSTRAINT "leaderboard_scores_period_computed_at_fkey" FOREIGN KEY ("period", "computed_at") REFERENCES "leaderboard_snapshots"("period", "computed_at") ON DELETE CASCADE ON UPDATE CASCADE;
