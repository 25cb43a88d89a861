-- CreateEnum
CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN');

-- CreateEnum
CREATE TYPE "Side" AS ENUM ('A', 'B');

-- CreateEnum
CREATE TYPE "CaseSource" AS ENUM ('AI', 'OFFLINE', 'USER');

-- CreateEnum
CREATE TYPE "CaseStatus" AS ENUM ('PENDING', 'OPEN', 'CLOSED');

-- CreateEnum
CREATE TYPE "CommitmentStatus" AS ENUM ('UNSENT', 'SENT', 'VERIFIED', 'MISMATCH');

-- CreateEnum
CREATE TYPE "RewardKind" AS ENUM ('WINNING_VOTE', 'TOP_ARGUMENT', 'PARTICIPATION', 'CREATOR', 'BADGE_BONUS');

-- CreateEnum
CREATE TYPE "RewardStatus" AS ENUM ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED');

-- CreateEnum
CREATE TYPE "ChainTxKind" AS ENUM ('COMMIT', 'PAYOUT');

-- CreateEnum
CREATE TYPE "ChainTxStatus" AS ENUM ('SENT', 'CONFIRMED', 'FAILED');

-- CreateEnum
CREATE TYPE "LeaderboardPeriod" AS ENUM ('ALL_TIME', 'WEEKLY', 'DAILY');

-- CreateEnum
CREATE TYPE "JobRunStatus" AS ENUM ('RUNNING', 'SUCCEEDED', 'FAILED');

-- CreateTable
CREATE TABLE "users" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "handle" VARCHAR(32) NOT NULL,
    "password_hash" TEXT NOT NULL,
    "wallet_address" VARCHAR(42),
    "role" "Role" NOT NULL DEFAULT 'USER',
    "is_beta_user" BOOLEAN NOT NULL DEFAULT false,
    "total_points" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "wallet_nonces" (
    "nonce" VARCHAR(64) NOT NULL,
    "user_id" UUID NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "wallet_nonces_pkey" PRIMARY KEY ("nonce")
);

-- CreateTable
CREATE TABLE "cases" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "title" VARCHAR(140) NOT NULL,
    "dilemma" TEXT NOT NULL,
    "side_a_label" VARCHAR(60) NOT NULL,
    "side_b_label" VARCHAR(60) NOT NULL,
    "source" "CaseSource" NOT NULL,
    "creator_id" UUID,
    "status" "CaseStatus" NOT NULL DEFAULT 'PENDING',
    "opens_at" TIMESTAMPTZ(3) NOT NULL,
    "closes_at" TIMESTAMPTZ(3) NOT NULL,
    "closed_at" TIMESTAMPTZ(3),
    "reward_pool" INTEGER NOT NULL,
    "commitment" CHAR(66),
    "commitment_status" "CommitmentStatus" NOT NULL DEFAULT 'UNSENT',
    "commit_tx_id" UUID,
    "verified_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cases_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sealed_rulings" (
    "case_id" UUID NOT NULL,
    "side" "Side" NOT NULL,
    "reasoning" TEXT NOT NULL,
    "salt" BYTEA NOT NULL,
    "judge" VARCHAR(100) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sealed_rulings_pkey" PRIMARY KEY ("case_id")
);

-- CreateTable
CREATE TABLE "votes" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "case_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "side" "Side" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "votes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "arguments" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "case_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "side" "Side" NOT NULL,
    "body" TEXT NOT NULL,
    "upvote_count" INTEGER NOT NULL DEFAULT 0,
    "top_rank" SMALLINT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "arguments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "argument_upvotes" (
    "argument_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "argument_upvotes_pkey" PRIMARY KEY ("argument_id","user_id")
);

-- CreateTable
CREATE TABLE "rewards" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "case_id" UUID,
    "badge_award_id" UUID,
    "kind" "RewardKind" NOT NULL,
    "amount" INTEGER NOT NULL,
    "status" "RewardStatus" NOT NULL DEFAULT 'PENDING',
    "payout_tx_id" UUID,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "rewards_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "case_settlements" (
    "case_id" UUID NOT NULL,
    "pool" INTEGER NOT NULL,
    "winning_side" "Side" NOT NULL,
    "winner_count" INTEGER NOT NULL,
    "participant_count" INTEGER NOT NULL,
    "votes_a" INTEGER NOT NULL,
    "votes_b" INTEGER NOT NULL,
    "paid" INTEGER NOT NULL,
    "treasury" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "case_settlements_pkey" PRIMARY KEY ("case_id")
);

-- CreateTable
CREATE TABLE "chain_transactions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "kind" "ChainTxKind" NOT NULL,
    "hash" CHAR(66) NOT NULL,
    "status" "ChainTxStatus" NOT NULL DEFAULT 'SENT',
    "chain_id" BIGINT NOT NULL,
    "block_number" BIGINT,
    "error" TEXT,
    "sent_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_checked_at" TIMESTAMPTZ(3),
    "settled_at" TIMESTAMPTZ(3),

    CONSTRAINT "chain_transactions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "badge_awards" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "badge_key" VARCHAR(40) NOT NULL,
    "awarded_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "badge_awards_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "leaderboard_cache" (
    "period" "LeaderboardPeriod" NOT NULL,
    "computed_at" TIMESTAMPTZ(3) NOT NULL,
    "user_id" UUID NOT NULL,
    "rank" INTEGER NOT NULL,
    "points" INTEGER NOT NULL,

    CONSTRAINT "leaderboard_cache_pkey" PRIMARY KEY ("period","computed_at","user_id")
);

-- CreateTable
CREATE TABLE "job_runs" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "job" VARCHAR(40) NOT NULL,
    "trigger" VARCHAR(20) NOT NULL,
    "status" "JobRunStatus" NOT NULL DEFAULT 'RUNNING',
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "items" INTEGER NOT NULL DEFAULT 0,
    "successes" INTEGER NOT NULL DEFAULT 0,
    "failures" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "result" JSONB,

    CONSTRAINT "job_runs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_handle_key" ON "users"("handle");

-- CreateIndex
CREATE UNIQUE INDEX "users_wallet_address_key" ON "users"("wallet_address");

-- CreateIndex
CREATE INDEX "users_total_points_handle_idx" ON "users"("total_points" DESC, "handle");

-- CreateIndex
CREATE INDEX "wallet_nonces_user_id_idx" ON "wallet_nonces"("user_id");

-- CreateIndex
CREATE INDEX "wallet_nonces_expires_at_idx" ON "wallet_nonces"("expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "cases_commit_tx_id_key" ON "cases"("commit_tx_id");

-- CreateIndex
CREATE INDEX "cases_status_closes_at_idx" ON "cases"("status", "closes_at");

-- CreateIndex
CREATE INDEX "cases_status_opens_at_id_idx" ON "cases"("status", "opens_at" DESC, "id");

-- CreateIndex
CREATE INDEX "cases_creator_id_created_at_idx" ON "cases"("creator_id", "created_at");

-- CreateIndex
CREATE INDEX "cases_commitment_status_idx" ON "cases"("commitment_status");

-- CreateIndex
CREATE INDEX "votes_case_id_side_idx" ON "votes"("case_id", "side");

-- CreateIndex
CREATE INDEX "votes_user_id_created_at_idx" ON "votes"("user_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "votes_case_id_user_id_key" ON "votes"("case_id", "user_id");

-- CreateIndex
CREATE INDEX "arguments_case_id_upvote_count_created_at_id_idx" ON "arguments"("case_id", "upvote_count" DESC, "created_at", "id");

-- CreateIndex
CREATE INDEX "arguments_user_id_created_at_idx" ON "arguments"("user_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "arguments_case_id_user_id_key" ON "arguments"("case_id", "user_id");

-- CreateIndex
CREATE UNIQUE INDEX "arguments_case_id_top_rank_key" ON "arguments"("case_id", "top_rank");

-- CreateIndex
CREATE INDEX "argument_upvotes_user_id_idx" ON "argument_upvotes"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "rewards_badge_award_id_key" ON "rewards"("badge_award_id");

-- CreateIndex
CREATE INDEX "rewards_user_id_created_at_idx" ON "rewards"("user_id", "created_at");

-- CreateIndex
CREATE INDEX "rewards_status_created_at_idx" ON "rewards"("status", "created_at");

-- CreateIndex
CREATE INDEX "rewards_payout_tx_id_idx" ON "rewards"("payout_tx_id");

-- CreateIndex
CREATE INDEX "rewards_completed_at_user_id_idx" ON "rewards"("completed_at", "user_id");

-- CreateIndex
CREATE UNIQUE INDEX "rewards_case_id_user_id_kind_key" ON "rewards"("case_id", "user_id", "kind");

-- CreateIndex
CREATE UNIQUE INDEX "chain_transactions_hash_key" ON "chain_transactions"("hash");

-- CreateIndex
CREATE INDEX "chain_transactions_status_sent_at_idx" ON "chain_transactions"("status", "sent_at");

-- CreateIndex
CREATE INDEX "badge_awards_awarded_at_idx" ON "badge_awards"("awarded_at");

-- CreateIndex
CREATE UNIQUE INDEX "badge_awards_user_id_badge_key_key" ON "badge_awards"("user_id", "badge_key");

-- CreateIndex
CREATE INDEX "leaderboard_cache_period_computed_at_rank_idx" ON "leaderboard_cache"("period", "computed_at" DESC, "rank");

-- CreateIndex
CREATE INDEX "leaderboard_cache_user_id_idx" ON "leaderboard_cache"("user_id");

-- CreateIndex
CREATE INDEX "job_runs_job_started_at_idx" ON "job_runs"("job", "started_at" DESC);

-- AddForeignKey
ALTER TABLE "wallet_nonces" ADD CONSTRAINT "wallet_nonces_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cases" ADD CONSTRAINT "cases_creator_id_fkey" FOREIGN KEY ("creator_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cases" ADD CONSTRAINT "cases_commit_tx_id_fkey" FOREIGN KEY ("commit_tx_id") REFERENCES "chain_transactions"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sealed_rulings" ADD CONSTRAINT "sealed_rulings_case_id_fkey" FOREIGN KEY ("case_id") REFERENCES "cases"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "votes" ADD CONSTRAINT "votes_case_id_fkey" FOREIGN KEY ("case_id") REFERENCES "cases"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "votes" ADD CONSTRAINT "votes_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "arguments" ADD CONSTRAINT "arguments_case_id_fkey" FOREIGN KEY ("case_id") REFERENCES "cases"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "arguments" ADD CONSTRAINT "arguments_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "argument_upvotes" ADD CONSTRAINT "argument_upvotes_argument_id_fkey" FOREIGN KEY ("argument_id") REFERENCES "arguments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "argument_upvotes" ADD CONSTRAINT "argument_upvotes_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rewards" ADD CONSTRAINT "rewards_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rewards" ADD CONSTRAINT "rewards_case_id_fkey" FOREIGN KEY ("case_id") REFERENCES "cases"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rewards" ADD CONSTRAINT "rewards_badge_award_id_fkey" FOREIGN KEY ("badge_award_id") REFERENCES "badge_awards"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rewards" ADD CONSTRAINT "rewards_payout_tx_id_fkey" FOREIGN KEY ("payout_tx_id") REFERENCES "chain_transactions"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "case_settlements" ADD CONSTRAINT "case_settlements_case_id_fkey" FOREIGN KEY ("case_id") REFERENCES "cases"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "badge_awards" ADD CONSTRAINT "badge_awards_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "leaderboard_cache" ADD CONSTRAINT "leaderboard_cache_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Added by hand: CHECK constraints that Prisma's schema language cannot express (and that its
-- diff ignores, so they cause no drift). They guard the rules of SPEC.md §1 below the application.

-- users
ALTER TABLE "users"
  ADD CONSTRAINT "users_handle_lower_check" CHECK ("handle" = lower("handle")),
  ADD CONSTRAINT "users_handle_format_check" CHECK ("handle" ~ '^[a-z0-9_]{3,32}$'),
  ADD CONSTRAINT "users_wallet_address_format_check" CHECK ("wallet_address" ~ '^0x[0-9a-fA-F]{40}$'),
  ADD CONSTRAINT "users_total_points_check" CHECK ("total_points" >= 0);

-- cases
ALTER TABLE "cases"
  ADD CONSTRAINT "cases_title_length_check" CHECK (char_length("title") BETWEEN 1 AND 140),
  ADD CONSTRAINT "cases_dilemma_length_check" CHECK (char_length("dilemma") BETWEEN 200 AND 5000),
  ADD CONSTRAINT "cases_window_check" CHECK ("closes_at" > "opens_at"),
  ADD CONSTRAINT "cases_reward_pool_check" CHECK ("reward_pool" >= 0),
  ADD CONSTRAINT "cases_commitment_format_check" CHECK ("commitment" ~ '^0x[0-9a-f]{64}$'),
  ADD CONSTRAINT "cases_closed_at_check" CHECK (("status" = 'CLOSED') = ("closed_at" IS NOT NULL)),
  -- A case opens only once its ruling is sealed and the commitment transaction at least sent.
  ADD CONSTRAINT "cases_sealed_before_open_check"
    CHECK ("status" = 'PENDING' OR ("commitment" IS NOT NULL AND "commitment_status" <> 'UNSENT')),
  ADD CONSTRAINT "cases_sides_differ_check" CHECK (lower("side_a_label") <> lower("side_b_label"));

-- arguments
ALTER TABLE "arguments"
  ADD CONSTRAINT "arguments_body_length_check" CHECK (char_length("body") BETWEEN 20 AND 2000),
  ADD CONSTRAINT "arguments_upvote_count_check" CHECK ("upvote_count" >= 0),
  ADD CONSTRAINT "arguments_top_rank_check" CHECK ("top_rank" BETWEEN 1 AND 3);

-- rewards: a badge bonus belongs to a badge award and to no case; every other reward to a case.
ALTER TABLE "rewards"
  ADD CONSTRAINT "rewards_amount_check" CHECK ("amount" > 0),
  ADD CONSTRAINT "rewards_attempts_check" CHECK ("attempts" >= 0),
  ADD CONSTRAINT "rewards_badge_award_check" CHECK (("kind" = 'BADGE_BONUS') = ("badge_award_id" IS NOT NULL)),
  ADD CONSTRAINT "rewards_case_check" CHECK (("kind" = 'BADGE_BONUS') = ("case_id" IS NULL)),
  ADD CONSTRAINT "rewards_completed_at_check" CHECK (("status" = 'COMPLETED') = ("completed_at" IS NOT NULL));

-- case_settlements: sum(rewards) + treasury = pool is checked in code; here what one row holds.
ALTER TABLE "case_settlements"
  ADD CONSTRAINT "case_settlements_pool_check" CHECK ("pool" >= 0),
  ADD CONSTRAINT "case_settlements_treasury_check" CHECK ("treasury" >= 0),
  ADD CONSTRAINT "case_settlements_paid_check" CHECK ("paid" >= 0),
  ADD CONSTRAINT "case_settlements_balance_check" CHECK ("paid" + "treasury" = "pool");

-- leaderboard_cache
ALTER TABLE "leaderboard_cache"
  ADD CONSTRAINT "leaderboard_cache_rank_check" CHECK ("rank" >= 1),
  ADD CONSTRAINT "leaderboard_cache_points_check" CHECK ("points" >= 0);

-- sealed_rulings
ALTER TABLE "sealed_rulings"
  ADD CONSTRAINT "sealed_rulings_salt_length_check" CHECK (octet_length("salt") = 32);

-- job_runs
ALTER TABLE "job_runs"
  ADD CONSTRAINT "job_runs_items_check" CHECK ("items" >= 0),
  ADD CONSTRAINT "job_runs_successes_check" CHECK ("successes" >= 0),
  ADD CONSTRAINT "job_runs_failures_check" CHECK ("failures" >= 0);
