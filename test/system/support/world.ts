import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JsonRpcProvider, Wallet } from 'ethers';
import pino from 'pino';
import { inject } from 'vitest';
import { caseKeyOf, openChain, type Chain } from '../../../src/chain/index.js';
import { startDevChain } from '../../../src/chain/dev-chain.js';
import { loadConfig } from '../../../src/config.js';
import { createPrismaClient, type Db } from '../../../src/db.js';
import { deployMigrations } from '../../../src/db/migrations.js';
import { computeCommitment } from '../../../src/domain/commitment.js';
import type { Side } from '../../../src/generated/prisma/enums.js';
import { createCase, createUser } from '../../support/fixtures.js';
import { adminQuery, databaseUrl } from '../../support/pg-admin.js';

export const serverUrl = process.env.TEST_DATABASE_URL!;

/** A Ganache node in the test process: it outlives every Verdict process a test kills. */
export async function startSharedChain() {
  const dev = await startDevChain();
  const provider = new JsonRpcProvider(dev.rpcUrl, 1337n, { staticNetwork: true, cacheTimeout: -1 });
  let ticker: NodeJS.Timeout | undefined;
  return {
    ...dev,
    provider,
    mine: () => provider.send('evm_mine', []) as Promise<unknown>,
    /** A block every `ms`, as a live chain makes them (the chain's clock is its newest block's time). */
    tick(ms: number | null) {
      if (ticker) clearInterval(ticker);
      ticker = ms ? setInterval(() => void provider.send('evm_mine', []).catch(() => undefined), ms) : undefined;
    },
    async stop() {
      if (ticker) clearInterval(ticker);
      provider.destroy();
      await dev.stop();
    },
  };
}
export type SharedChain = Awaited<ReturnType<typeof startSharedChain>>;

/**
 * One scenario's own world: a database `verdict_fault_<random>` on the PostgreSQL server (a copy of
 * the run's migrated template), a data directory, and its own contracts on the shared chain
 * (deployed here once; every Verdict process gets their addresses, so restarts reuse them).
 */
export async function createWorld(label: string, chain: SharedChain) {
  const name = `verdict_fault_${randomBytes(5).toString('hex')}`;
  const template = inject('pgTemplateDatabase');
  if (template) await adminQuery(serverUrl, `CREATE DATABASE "${name}" TEMPLATE "${template}"`);
  else {
    await adminQuery(serverUrl, `CREATE DATABASE "${name}"`);
    await deployMigrations({ connectionString: databaseUrl(serverUrl, name) });
  }
  const url = databaseUrl(serverUrl, name);
  const db = createPrismaClient({ connectionString: url, max: 4 }, { embedded: false });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `vf-${label}-`));
  const log = pino({ level: 'silent' });
  // The test's own handle on the chain, with Verdict's key: it deploys the contracts and seals
  // fixture cases, only while no Verdict process is sending (one sender per key at a time).
  const ours: Chain = await openChain(
    loadConfig({ DATA_DIR: dataDir, CHAIN_RPC_URL: chain.rpcUrl, CHAIN_PRIVATE_KEY: chain.ownerKey, LOG_LEVEL: 'silent' }),
    log,
  );
  const sessionSecret = randomBytes(24).toString('hex');

  /** The environment of a Verdict process of this world (every job off unless set). */
  const env = (overrides: Record<string, string> = {}): Record<string, string> => ({
    DATA_DIR: dataDir,
    DATABASE_URL: url,
    CHAIN_RPC_URL: chain.rpcUrl,
    CHAIN_PRIVATE_KEY: chain.ownerKey,
    CHAIN_REGISTRY_ADDRESS: ours.registryAddress,
    CHAIN_TOKEN_ADDRESS: ours.tokenAddress,
    SESSION_SECRET: sessionSecret,
    LOG_LEVEL: 'info',
    RATE_LIMIT_MUTATIONS_PER_MINUTE: '100000',
    RATE_LIMIT_SIGN_IN_PER_MINUTE: '100000',
    JOB_CASE_GENERATION: 'off',
    JOB_CASE_CLOSURE: 'off',
    JOB_TX_MONITOR: 'off',
    JOB_VERDICT_CHECK: 'off',
    JOB_LEADERBOARD: 'off',
    JOB_BADGES: 'off',
    ...overrides,
  });

  return {
    name,
    url,
    db,
    dataDir,
    chain: ours,
    env,
    async close() {
      await ours.close().catch(() => undefined);
      await db.$disconnect().catch(() => undefined);
      await adminQuery(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
export type World = Awaited<ReturnType<typeof createWorld>>;

/** A deterministic PRNG (mulberry32): the same seed gives the same kill points. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!,
    shuffle<T>(items: readonly T[]): T[] {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    },
  };
}
export type Rng = ReturnType<typeof rng>;

/** Users: `wallets` of them with a wallet (paid on chain), `beta` of those without one beta users. */
export async function seedUsers(db: Db, count: number, options: { wallets: number; beta: number }) {
  const users = [];
  for (let i = 0; i < count; i++) {
    const user = await createUser(db);
    const data = i < options.wallets ? { walletAddress: Wallet.createRandom().address } : i < options.wallets + options.beta ? { isBetaUser: true } : null;
    users.push(data ? await db.user.update({ where: { id: user.id }, data }) : user);
  }
  return users;
}

/**
 * An OPEN case, far from closing, with votes and arguments (some upvoted) by the given users.
 * Its commitment is a placeholder until `sealNow` puts the real one on chain.
 */
export async function seedOpenCase(db: Db, r: Rng, users: { id: string }[], options: { voters: number; arguers: number; rulingSide?: Side }) {
  const c = await createCase(db, {
    rulingSide: options.rulingSide ?? (r.next() < 0.5 ? 'A' : 'B'),
    opensAt: new Date(Date.now() - 3600_000),
    closesAt: new Date(Date.now() + 30 * 86_400_000),
  });
  const voters = r.shuffle(users).slice(0, options.voters);
  await db.vote.createMany({ data: voters.map((u) => ({ caseId: c.id, userId: u.id, side: r.next() < 0.5 ? ('A' as const) : ('B' as const) })) });
  const arguers = r.shuffle(users).slice(0, options.arguers);
  for (const [i, u] of arguers.entries()) {
    await db.argument.create({
      data: {
        caseId: c.id,
        userId: u.id,
        side: r.next() < 0.5 ? 'A' : 'B',
        body: `Argument ${i} for case ${c.id}, long enough to count.`,
        upvoteCount: r.int(0, 4),
        createdAt: new Date(Date.now() - 10_000 + i),
      },
    });
  }
  return c;
}

/**
 * Makes a case due (by the database's clock) and seals it for real, as sealing does: its
 * commitment computed from its ruling and committed on chain, revealable from `revealAfter`
 * (default: in 1.5 s, so the commit cannot land in a block already past it). Only while no Verdict process sends with the key.
 */
export async function makeDueAndSeal(world: World, caseId: string, revealAfter = new Date(Date.now() + 1500)) {
  const { db } = world;
  await db.$executeRaw`UPDATE cases SET closes_at = now() - interval '1 second' WHERE id = ${caseId}::uuid`;
  await sealCase(world, caseId, revealAfter);
}

export async function sealCase(world: World, caseId: string, revealAfter: Date) {
  const { db, chain } = world;
  const c = await db.case.findUniqueOrThrow({ where: { id: caseId }, include: { ruling: true } });
  const r = c.ruling!;
  const commitment = computeCommitment({ chainId: chain.chainId, registryAddress: chain.registryAddress, caseId, side: r.side, reasoning: r.reasoning, salt: r.salt });
  // A killed process's last transaction may reach the node just after the test read the nonce:
  // then the node refuses this one, as it would any second sender's (a nonce too low, or a
  // replacement of the transaction being mined); send it again.
  let hash = '';
  for (let attempt = 1; !hash; attempt++) {
    try {
      ({ hash } = await chain.commit(caseKeyOf(caseId), commitment, revealAfter));
    } catch (error) {
      if (attempt >= 5 || !/nonce|can't be replaced/i.test(String((error as Error).message))) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
  await db.case.update({
    where: { id: caseId },
    data: { commitment, commitmentStatus: 'VERIFIED', revealAfter, commitTx: { create: { kind: 'COMMIT', hash, chainId: chain.chainId, status: 'CONFIRMED' } } },
  });
}

/**
 * A SIGKILLed process keeps its job claims until their lease (5 minutes) lapses. The test does
 * not wait 5 minutes: it lets the leases lapse now, exactly as time would.
 */
export const lapseJobLeases = (db: Db) => db.$executeRaw`UPDATE job_locks SET locked_until = now() - interval '1 second'`;

/**
 * A commitment or reveal recorded but never broadcast (killed in between) is sent again once
 * it has been unseen for RESEND_UNSEEN_AFTER_MS (5 minutes): the test moves its record's time back
 * instead of waiting. Only rows still SENT are touched; found transactions ignore sentAt.
 */
export const ageSentChainTransactions = (db: Db) =>
  db.$executeRaw`UPDATE chain_transactions SET sent_at = sent_at - interval '10 minutes' WHERE status = 'SENT' AND kind IN ('COMMIT', 'REVEAL')`;
