-- AlterTable
ALTER TABLE "cases" ADD COLUMN     "inspired_by_id" UUID;

-- CreateTable
CREATE TABLE "topics" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "source" VARCHAR(200) NOT NULL,
    "link" VARCHAR(2000) NOT NULL,
    "title" VARCHAR(300) NOT NULL,
    "first_seen_at" TIMESTAMPTZ(3) NOT NULL,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "topics_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "topic_scores" (
    "topic_id" UUID NOT NULL,
    "scanned_at" TIMESTAMPTZ(3) NOT NULL,
    "score" INTEGER NOT NULL,
    "comments" INTEGER NOT NULL,

    CONSTRAINT "topic_scores_pkey" PRIMARY KEY ("topic_id","scanned_at")
);

-- CreateIndex
CREATE INDEX "topics_last_seen_at_idx" ON "topics"("last_seen_at");

-- CreateIndex
CREATE UNIQUE INDEX "topics_source_link_key" ON "topics"("source", "link");

-- CreateIndex
CREATE UNIQUE INDEX "cases_inspired_by_id_key" ON "cases"("inspired_by_id");

-- AddForeignKey
ALTER TABLE "cases" ADD CONSTRAINT "cases_inspired_by_id_fkey" FOREIGN KEY ("inspired_by_id") REFERENCES "topics"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "topic_scores" ADD CONSTRAINT "topic_scores_topic_id_fkey" FOREIGN KEY ("topic_id") REFERENCES "topics"("id") ON DELETE CASCADE ON UPDATE CASCADE;
