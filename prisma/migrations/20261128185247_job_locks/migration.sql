-- CreateTable
CREATE TABLE "job_locks" (
    "job" VARCHAR(40) NOT NULL,
    "holder" VARCHAR(100) NOT NULL,
    "locked_until" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "job_locks_pkey" PRIMARY KEY ("job")
);
