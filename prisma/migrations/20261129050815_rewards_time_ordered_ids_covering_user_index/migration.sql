-- A UUID version 7 (RFC 9562): 48 bits of Unix time in milliseconds, then random bits. Rows
-- inserted together get neighbouring keys, so a closure's rewards append to the primary key
-- instead of touching one random page each. Built on gen_random_uuid() (version 4 bits 0100):
-- the first six bytes become the time, and setting bits 52 and 53 turns the version into 0111.
CREATE FUNCTION uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
  SELECT encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
        PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
        FROM 1 FOR 6),
      52, 1), 53, 1),
    'hex')::uuid
$$;

-- AlterTable
ALTER TABLE "rewards" ALTER COLUMN "id" SET DEFAULT uuid_v7();

-- A user's rewards by time, with what a period's points need in the key (index-only sums).
DROP INDEX "rewards_user_id_created_at_idx";
CREATE INDEX "rewards_user_id_created_at_status_completed_at_amount_idx" ON "rewards"("user_id", "created_at", "status", "completed_at", "amount");
