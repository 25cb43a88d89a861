-- CreateEnum
CREATE TYPE "NotifyChannel" AS ENUM ('EMAIL', 'IN_APP', 'OFF');

-- CreateEnum
CREATE TYPE "EmailStatus" AS ENUM ('SENDING', 'RETRY', 'SENT', 'FAILED');

-- AlterTable
ALTER TABLE "notifications" ADD COLUMN     "delivery_id" UUID;

-- CreateTable
CREATE TABLE "notification_settings" (
    "user_id" UUID NOT NULL,
    "case_closed" "NotifyChannel" NOT NULL DEFAULT 'EMAIL',
    "badge_earned" "NotifyChannel" NOT NULL DEFAULT 'EMAIL',
    "reward_confirmed" "NotifyChannel" NOT NULL DEFAULT 'EMAIL',
    "reward_failed" "NotifyChannel" NOT NULL DEFAULT 'EMAIL',

    CONSTRAINT "notification_settings_pkey" PRIMARY KEY ("user_id")
);

-- CreateTable
CREATE TABLE "user_emails" (
    "user_id" UUID NOT NULL,
    "address" VARCHAR(254) NOT NULL,
    "verified_at" TIMESTAMPTZ(3),
    "code_hash" CHAR(64),
    "code_expires_at" TIMESTAMPTZ(3),
    "code_attempts" INTEGER NOT NULL DEFAULT 0,
    "digest_sent_at" TIMESTAMPTZ(3),

    CONSTRAINT "user_emails_pkey" PRIMARY KEY ("user_id")
);

-- CreateTable
CREATE TABLE "email_deliveries" (
    "id" UUID NOT NULL DEFAULT uuid_v7(),
    "user_id" UUID NOT NULL,
    "address" VARCHAR(254) NOT NULL,
    "status" "EmailStatus" NOT NULL DEFAULT 'SENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt" TIMESTAMPTZ(3),
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMPTZ(3),

    CONSTRAINT "email_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "email_deliveries_status_next_attempt_idx" ON "email_deliveries"("status", "next_attempt");

-- AddForeignKey
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "email_deliveries"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "notification_settings" ADD CONSTRAINT "notification_settings_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "user_emails" ADD CONSTRAINT "user_emails_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "email_deliveries" ADD CONSTRAINT "email_deliveries_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
