-- AlterEnum
ALTER TYPE "JobRunStatus" ADD VALUE 'ABANDONED';

-- AlterTable
ALTER TABLE "job_runs" ADD COLUMN     "abandoned_by" VARCHAR(100),
ADD COLUMN     "holder" VARCHAR(100);
