import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import ganache from 'ganache';

export const DEV_CHAIN_ID = 1337;

/**
 * The zero-configuration chain: Ganache in this process, on 127.0.0.1 only, persisted under
 * `dir` (in memory without one). Its owner key is made once and kept beside the chain data.
 * Ganache is archived upstream: it stays behind the Chain interface, for development only.
 */
export async function startDevChain(dir?: string) {
  let ownerKey = `0x${randomBytes(32).toString('hex')}`;
  if (dir) {
    fs.mkdirSync(path.join(dir, 'db'), { recursive: true });
    const keyFile = path.join(dir, 'owner.key');
    if (fs.existsSync(keyFile)) ownerKey = fs.readFileSync(keyFile, 'utf8').trim();
    else fs.writeFileSync(keyFile, ownerKey, { mode: 0o600 });
  }
  // Ganache loads its alt_bn128 precompiles (rustbn, emscripten asm.js) with its Ethereum flavor,
  // and V8 validates and compiles asm.js eagerly: ~0.8 s of CPU at every start here. As plain
  // JavaScript they compile only if a contract ever calls them (Verdict's do not). The flag
  // concerns asm.js code alone, which nothing else in this process uses.
  v8.setFlagsFromString('--no-validate-asm');
  const server = ganache.server({
    chain: { chainId: DEV_CHAIN_ID, hardfork: 'shanghai' },
    // Locked: its RPC signs nothing; Verdict signs its own transactions with the owner key.
    wallet: { accounts: [{ secretKey: ownerKey, balance: 10n ** 24n }], lock: true },
    logging: { quiet: true },
    ...(dir ? { database: { dbPath: path.join(dir, 'db') } } : {}),
  });
  await server.listen(0, '127.0.0.1');
  const { port } = server.address();
  return {
    rpcUrl: `http://127.0.0.1:${port}`,
    ownerKey,
    stop: () => server.close(),
  };
}
