import fs from 'node:fs';
import path from 'node:path';
import { Contract, ContractFactory, FetchRequest, JsonRpcProvider, Transaction, Wallet, getAddress, getBytes, type InterfaceAbi, type TransactionRequest } from 'ethers';
import type { Logger } from 'pino';
import registryArtifact from '../../contracts/artifacts/VerdictRegistry.json' with { type: 'json' };
import pointsArtifact from '../../contracts/artifacts/VerdictPoints.json' with { type: 'json' };
import type { Config } from '../config.js';
import { startDevChain } from './dev-chain.js';

export interface ChainTxStatus {
  state: 'pending' | 'confirmed' | 'reverted' | 'not_found';
  confirmations: number;
  blockNumber: bigint | null;
  /** The including block's timestamp (whole seconds); null until mined. */
  blockTimestamp: Date | null;
}

/** What the registry holds for one case; all zero/null before the commit. */
export interface RegistryRecord {
  commitment: string | null;
  committedAt: Date | null;
  /** From when the reveal is accepted. */
  closesAt: Date | null;
  revealedAt: Date | null;
  side: 'A' | 'B' | null;
  ledgerRoot: string | null;
}

export interface RevealInput {
  side: 'A' | 'B';
  reasoning: string;
  salt: Uint8Array;
  ledgerRoot: string;
}

/**
 * Called with a transaction's hash after it is signed and before it is broadcast: it is on file
 * before it can exist on chain, and a `record` that throws (someone else claimed the work) stops
 * the broadcast, so the transaction never exists.
 */
export type RecordHash = (hash: string, signed: { nonce: number; raw: string }) => Promise<void>;

/** What Verdict needs from an EVM chain, and nothing more. */
export interface Chain {
  readonly chainId: bigint;
  readonly registryAddress: string;
  readonly tokenAddress: string;
  /** The JSON-RPC URL in use; it may carry an API key, so it is public only for the dev chain. */
  readonly rpcUrl: string;
  /** The in-process development chain (not a real network). */
  readonly dev: boolean;
  /** Sends the commitment with the time from which it may be revealed; resolves once sent, not mined. */
  commit(caseKey: string, commitment: string, closesAt: Date, record?: RecordHash): Promise<{ hash: string }>;
  /** Sends the reveal of a ruling with the case's ledger root; the registry rechecks the commitment. */
  reveal(caseKey: string, input: RevealInput, record?: RecordHash): Promise<{ hash: string }>;
  /** Why a reveal would be refused now (the registry's error name), or null when it would pass. */
  tryReveal(caseKey: string, input: RevealInput): Promise<string | null>;
  readRecord(caseKey: string): Promise<RegistryRecord>;
  /** The registry's own check of a ledger entry against the revealed root. */
  verifyLedgerEntry(caseKey: string, leaf: string, proof: string[]): Promise<boolean>;
  /** The newest block's timestamp: the chain's clock, which decides when a reveal is early. */
  latestBlockTime(): Promise<Date>;
  /** The address whose signature (EIP-191 personal message) is on vote receipts: the chain key. */
  readonly receiptSigner: string;
  /**
   * Makes every send (nonce read, sign, record, broadcast) also hold `lock`: servers sharing one
   * key and one database then never race for a nonce. Without it, sends are serialized per process.
   */
  useSendLock(lock: <T>(send: () => Promise<T>) => Promise<T>): void;
  signReceipt(digest: string): Promise<string>;
  /** The transaction that committed this key, from the registry's events; null when none. */
  findCommit(caseKey: string): Promise<{ hash: string; blockNumber: bigint } | null>;
  /** The transaction that revealed this key, from the registry's events; null when none. */
  findReveal(caseKey: string): Promise<{ hash: string; blockNumber: bigint } | null>;
  readCommitment(caseKey: string): Promise<string | null>;
  /**
   * One mintBatch transaction paying every entry. The transaction is signed first and its hash
   * handed to `record`; it is broadcast only once `record` resolved, so a payout is on file
   * before it can exist on chain (a crash in between leaves a hash that is never found).
   */
  payBatch(payments: { to: string; amount: bigint }[], record?: RecordHash): Promise<{ hash: string }>;
  transactionStatus(hash: string, minConfirmations: number): Promise<ChainTxStatus>;
  /** How many transactions of Verdict's key are mined: every nonce below it is used for good. */
  minedNonce(): Promise<number>;
  /** Sends an already signed transaction again (the same bytes, so the same hash). */
  rebroadcast(raw: string): Promise<void>;
  /** Raw JSON-RPC, for operators and tests of the dev chain (evm_mine, miner_stop, …). */
  rpc(method: string, params?: unknown[]): Promise<unknown>;
  close(): Promise<void>;
}

const ZERO = `0x${'0'.repeat(64)}`;
const SIDE_CODE = { A: 1, B: 2 } as const;
const seconds = (at: Date) => BigInt(Math.ceil(at.getTime() / 1000));
const fromSeconds = (value: bigint) => (value === 0n ? null : new Date(Number(value) * 1000));

/** The registry key of a case: its uuid's 16 bytes, left-padded with zeros to 32 bytes. */
export function caseKeyOf(caseId: string): string {
  const hex = caseId.replaceAll('-', '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error(`Not a uuid: ${caseId}`);
  return `0x${hex.padStart(64, '0')}`;
}

interface Deployment {
  chainId: string;
  registry: string;
  token: string;
}

/**
 * CHAIN_RPC_URL + CHAIN_PRIVATE_KEY: any EVM node. Otherwise an in-process dev chain persisted
 * under DATA_DIR/chain. Contracts are deployed once and their addresses remembered.
 */
export async function openChain(config: Config, log: Logger, options: { inMemory?: boolean } = {}): Promise<Chain> {
  if (config.CHAIN_RPC_URL) {
    // One address alone would quietly deploy a second token or registry beside the real one.
    if (!config.CHAIN_REGISTRY_ADDRESS !== !config.CHAIN_TOKEN_ADDRESS) {
      throw new Error('CHAIN_REGISTRY_ADDRESS and CHAIN_TOKEN_ADDRESS go together: set both or neither');
    }
    return connect({
      rpcUrl: config.CHAIN_RPC_URL,
      privateKey: config.CHAIN_PRIVATE_KEY!,
      addresses: config.CHAIN_REGISTRY_ADDRESS && config.CHAIN_TOKEN_ADDRESS ? { registry: config.CHAIN_REGISTRY_ADDRESS, token: config.CHAIN_TOKEN_ADDRESS } : undefined,
      deploymentFile: path.join(config.DATA_DIR, 'chain-deployment.json'),
      log,
      dev: false,
      timeoutMs: config.CHAIN_RPC_TIMEOUT_MS,
      onClose: async () => {},
    });
  }
  const dir = options.inMemory ? undefined : path.join(config.DATA_DIR, 'chain');
  const dev = await startDevChain(dir);
  try {
    return await connect({
      rpcUrl: dev.rpcUrl,
      privateKey: dev.ownerKey,
      deploymentFile: dir ? path.join(dir, 'deployment.json') : undefined,
      log,
      dev: true,
      timeoutMs: config.CHAIN_RPC_TIMEOUT_MS,
      onClose: dev.stop,
    });
  } catch (error) {
    await dev.stop();
    throw error;
  }
}

interface ConnectOptions {
  /** The longest one JSON-RPC request may take. */
  timeoutMs: number;
  rpcUrl: string;
  privateKey: string;
  addresses?: { registry: string; token: string } | undefined;
  deploymentFile?: string | undefined;
  log: Logger;
  dev: boolean;
  onClose: () => Promise<void>;
}

async function connect(opts: ConnectOptions): Promise<Chain> {
  // Discover the chain id once, then pin it: instant-mining chains confuse ethers' network polling.
  // Every request is bounded: a node that stops answering fails the job's run (and frees the send
  // queue) instead of holding this server's chain work, and its job's lease, for minutes.
  const request = new FetchRequest(opts.rpcUrl);
  request.timeout = opts.timeoutMs;
  const probe = new JsonRpcProvider(request.clone(), undefined, { staticNetwork: false });
  const chainId = await probe.getNetwork().then(
    (network) => network.chainId,
    (error: unknown) => {
      probe.destroy();
      throw error;
    },
  );
  probe.destroy();
  const provider = new JsonRpcProvider(request, chainId, { staticNetwork: true, cacheTimeout: -1, pollingInterval: 100 });
  const signer = new Wallet(opts.privateKey, provider);
  const owner = signer.address;

  // One send at a time, each with the nonce the chain counts (pending included): a dropped or
  // refused transaction leaves no gap behind, as a locally counted nonce would.
  let queue: Promise<unknown> = Promise.resolve();
  let sendLock = <T>(send: () => Promise<T>) => send();
  const serialized = <T>(send: (nonce: number) => Promise<T>): Promise<T> => {
    const next = queue.then(() => sendLock(async () => send(await provider.getTransactionCount(owner, 'pending'))));
    queue = next.catch(() => undefined);
    return next;
  };

  const deployment = await ensureDeployment(opts, provider, signer, owner, chainId).catch((error: unknown) => {
    provider.destroy();
    throw error;
  });
  const registry = new Contract(deployment.registry, registryArtifact.abi as InterfaceAbi, signer);
  const token = new Contract(deployment.token, pointsArtifact.abi as InterfaceAbi, signer);

  /** Signs with the chain's pending nonce, hands the hash to `record`, then broadcasts. */
  const sendRecorded = (populate: () => Promise<TransactionRequest>, record?: RecordHash) =>
    serialized(async (nonce) => {
      const signed = await signer.signTransaction(await signer.populateTransaction({ ...(await populate()), nonce }));
      const hash = Transaction.from(signed).hash!;
      await record?.(hash, { nonce, raw: signed });
      await provider.broadcastTransaction(signed);
      return { hash };
    });
  const findEvent = async (name: 'Committed' | 'Revealed', caseKey: string) => {
    const [event] = await registry.queryFilter(registry.filters[name]!(caseKey), 0, 'latest');
    return event ? { hash: event.transactionHash, blockNumber: BigInt(event.blockNumber) } : null;
  };
  const revealArgs = (caseKey: string, input: RevealInput) =>
    [caseKey, SIDE_CODE[input.side], input.reasoning, `0x${Buffer.from(input.salt).toString('hex')}`, input.ledgerRoot] as const;

  return {
    chainId,
    registryAddress: deployment.registry,
    tokenAddress: deployment.token,
    rpcUrl: opts.rpcUrl,
    dev: opts.dev,
    commit: (caseKey, commitment, closesAt, record) =>
      sendRecorded(() => registry.getFunction('commit').populateTransaction(caseKey, commitment, seconds(closesAt)), record),
    reveal: (caseKey, input, record) =>
      sendRecorded(() => registry.getFunction('reveal').populateTransaction(...revealArgs(caseKey, input)), record),
    async tryReveal(caseKey, input) {
      try {
        await registry.getFunction('reveal').staticCall(...revealArgs(caseKey, input));
        return null;
      } catch (error) {
        const name = registry.interface.parseError((error as { data?: string }).data ?? '0x')?.name;
        if (name) return name;
        throw error;
      }
    },
    async readRecord(caseKey) {
      const [commitment, committedAt, closesAt, revealedAt, side, ledgerRoot] = (await registry.getFunction('recordOf')(caseKey)) as [
        string, bigint, bigint, bigint, bigint, string,
      ];
      return {
        commitment: commitment === ZERO ? null : commitment.toLowerCase(),
        committedAt: fromSeconds(committedAt),
        closesAt: fromSeconds(closesAt),
        revealedAt: fromSeconds(revealedAt),
        side: side === 1n ? 'A' : side === 2n ? 'B' : null,
        ledgerRoot: side === 0n ? null : ledgerRoot.toLowerCase(),
      };
    },
    verifyLedgerEntry: async (caseKey, leaf, proof) => (await registry.getFunction('verifyLedgerEntry')(caseKey, leaf, proof)) as boolean,
    async latestBlockTime() {
      const block = await provider.getBlock('latest');
      return new Date(Number(block!.timestamp) * 1000);
    },
    receiptSigner: owner,
    useSendLock(lock) {
      sendLock = lock;
    },
    signReceipt: (digest) => signer.signMessage(getBytes(digest)),
    findCommit: (caseKey) => findEvent('Committed', caseKey),
    findReveal: (caseKey) => findEvent('Revealed', caseKey),
    async readCommitment(caseKey) {
      const value = (await registry.getFunction('commitmentOf')(caseKey)) as string;
      return value === ZERO ? null : value.toLowerCase();
    },
    payBatch: (payments, record) =>
      sendRecorded(
        () => token.getFunction('mintBatch').populateTransaction(payments.map((p) => getAddress(p.to)), payments.map((p) => p.amount)),
        record,
      ),
    async transactionStatus(hash, minConfirmations) {
      const receipt = await provider.getTransactionReceipt(hash);
      if (receipt) {
        const [confirmations, block] = await Promise.all([receipt.confirmations(), provider.getBlock(receipt.blockNumber)]);
        const blockNumber = BigInt(receipt.blockNumber);
        const blockTimestamp = block ? new Date(Number(block.timestamp) * 1000) : null;
        if (receipt.status === 0) return { state: 'reverted', confirmations, blockNumber, blockTimestamp };
        return { state: confirmations >= minConfirmations ? 'confirmed' : 'pending', confirmations, blockNumber, blockTimestamp };
      }
      const tx = await provider.getTransaction(hash);
      return { state: tx ? 'pending' : 'not_found', confirmations: 0, blockNumber: null, blockTimestamp: null };
    },
    minedNonce: () => provider.getTransactionCount(owner, 'latest'),
    async rebroadcast(raw) {
      await provider.broadcastTransaction(raw);
    },
    rpc: (method, params = []) => provider.send(method, params),
    async close() {
      provider.destroy();
      await opts.onClose();
    },
  };
}

async function ensureDeployment(
  opts: ConnectOptions,
  provider: JsonRpcProvider,
  signer: Wallet,
  owner: string,
  chainId: bigint,
): Promise<Deployment> {
  const hasCode = async (address: string) => (await provider.getCode(address)) !== '0x';
  if (opts.addresses) {
    for (const address of Object.values(opts.addresses)) {
      if (!(await hasCode(address))) throw new Error(`No contract at ${address} on chain ${chainId}`);
    }
    return { chainId: chainId.toString(), registry: getAddress(opts.addresses.registry), token: getAddress(opts.addresses.token) };
  }
  if (opts.deploymentFile && fs.existsSync(opts.deploymentFile)) {
    const saved = JSON.parse(fs.readFileSync(opts.deploymentFile, 'utf8')) as Deployment;
    if (saved.chainId === chainId.toString() && (await hasCode(saved.registry)) && (await hasCode(saved.token))) return saved;
  }
  const deploy = async (artifact: { abi: unknown; bytecode: string }) => {
    const contract = await new ContractFactory(artifact.abi as InterfaceAbi, artifact.bytecode, signer).deploy(owner);
    await contract.waitForDeployment();
    return getAddress(await contract.getAddress());
  };
  const deployment = { chainId: chainId.toString(), registry: await deploy(registryArtifact), token: await deploy(pointsArtifact) };
  if (opts.deploymentFile) fs.writeFileSync(opts.deploymentFile, `${JSON.stringify(deployment, null, 2)}\n`);
  opts.log.info(deployment, 'deployed the Verdict contracts');
  return deployment;
}
