-- AlterTable
ALTER TABLE "cases" ADD COLUMN     "archived_at" TIMESTAMPTZ(3),
ADD COLUMN     "archived_votes" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "votes_archive" (
    "id" UUID NOT NULL,
    "case_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "side" "Side" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "votes_archive_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "argument_upvotes_archive" (
    "argument_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "argument_upvotes_archive_pkey" PRIMARY KEY ("argument_id","user_id")
);

-- CreateIndex
CREATE INDEX "votes_archive_user_id_created_at_case_id_side_idx" ON "votes_archive"("user_id", "created_at", "case_id", "side");

-- CreateIndex
CREATE INDEX "votes_archive_created_at_idx" ON "votes_archive"("created_at");

-- CreateIndex
CREATE UNIQUE INDEX "votes_archive_case_id_user_id_key" ON "votes_archive"("case_id", "user_id");

-- CreateIndex
CREATE INDEX "argument_upvotes_archive_user_id_idx" ON "argument_upvotes_archive"("user_id");

-- CreateIndex
CREATE INDEX "argument_upvotes_archive_created_at_idx" ON "argument_upvotes_archive"("created_at");

-- AddForeignKey
ALTER TABLE "votes_archive" ADD CONSTRAINT "votes_archive_case_id_fkey" FOREIGN KEY ("case_id") REFERENCES "cases"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "votes_archive" ADD CONSTRAINT "votes_archive_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "argument_upvotes_archive" ADD CONSTRAINT "argument_upvotes_archive_argument_id_fkey" FOREIGN KEY ("argument_id") REFERENCES "arguments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "argument_upvotes_archive" ADD CONSTRAINT "argument_upvotes_archive_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Everything that may look at a closed case reads both the hot and the archived rows.
CREATE VIEW "votes_all" AS
    SELECT "id", "case_id", "user_id", "side", "created_at" FROM "votes"
    UNION ALL
    SELECT "id", "case_id", "user_id", "side", "created_at" FROM "votes_archive";

CREATE VIEW "argument_upvotes_all" AS
    SELECT "argument_id", "user_id", "created_at" FROM "argument_upvotes"
    UNION ALL
    SELECT "argument_id", "user_id", "created_at" FROM "argument_upvotes_archive";
