-- CreateTable
CREATE TABLE "daily_stats" (
    "day" DATE NOT NULL,
    "new_users" INTEGER NOT NULL,
    "active_users" INTEGER NOT NULL,
    "votes" INTEGER NOT NULL,
    "arguments" INTEGER NOT NULL,
    "upvotes" INTEGER NOT NULL,
    "cases_opened" INTEGER NOT NULL,
    "cases_closed" INTEGER NOT NULL,
    "points_off_chain" INTEGER NOT NULL,
    "points_on_chain" INTEGER NOT NULL,
    "crowd_agreement" DOUBLE PRECISION,
    "median_participants" DOUBLE PRECISION,
    "retention_day1" DOUBLE PRECISION,
    "retention_day7" DOUBLE PRECISION,
    "computed_at" TIMESTAMPTZ(3) NOT NULL,
    "run_id" UUID,

    CONSTRAINT "daily_stats_pkey" PRIMARY KEY ("day")
);

-- CreateIndex
CREATE INDEX "argument_upvotes_created_at_idx" ON "argument_upvotes"("created_at");

-- CreateIndex
CREATE INDEX "users_created_at_idx" ON "users"("created_at");

-- AddForeignKey
ALTER TABLE "daily_stats" ADD CONSTRAINT "daily_stats_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "job_runs"("id") ON DELETE SET NULL ON UPDATE CASCADE;
