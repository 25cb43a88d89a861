-- CreateEnum
CREATE TYPE "NotificationKind" AS ENUM ('CASE_CLOSED', 'BADGE_EARNED', 'REWARD_CONFIRMED', 'REWARD_FAILED');

-- CreateTable
CREATE TABLE "notifications" (
    "id" UUID NOT NULL DEFAULT uuid_v7(),
    "user_id" UUID NOT NULL,
    "kind" "NotificationKind" NOT NULL,
    "subject_id" UUID NOT NULL,
    "case_id" UUID,
    "title" VARCHAR(200) NOT NULL,
    "body" VARCHAR(1000) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "read_at" TIMESTAMPTZ(3),
    "published_at" TIMESTAMPTZ(3),

    CONSTRAINT "notifications_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "notification_cursors" (
    "source" VARCHAR(40) NOT NULL,
    "until" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "notification_cursors_pkey" PRIMARY KEY ("source")
);

-- CreateIndex
CREATE INDEX "notifications_user_id_id_idx" ON "notifications"("user_id", "id" DESC);

-- CreateIndex
CREATE INDEX "notifications_published_at_idx" ON "notifications"("published_at");

-- CreateIndex
CREATE UNIQUE INDEX "notifications_user_id_kind_subject_id_key" ON "notifications"("user_id", "kind", "subject_id");

-- CreateIndex
CREATE INDEX "case_settlements_created_at_idx" ON "case_settlements"("created_at");

-- CreateIndex
CREATE INDEX "chain_transactions_settled_at_idx" ON "chain_transactions"("settled_at");

-- AddForeignKey
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_case_id_fkey" FOREIGN KEY ("case_id") REFERENCES "cases"("id") ON DELETE CASCADE ON UPDATE CASCADE;
