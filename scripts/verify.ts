// npm run verify -- <caseId> [--api <graphql url>] [--rpc <json-rpc url>] [--token <session token>]
// Checks a case from the public API and the chain alone (no database): the commitment on the
// registry, mined before the case opened and before its first vote; once closed, the commitment
// recomputed from the revealed ruling and salt, the settlement's sums, the registry's record of
// the reveal and its ledger root; with a token, the holder's own ledger entries and proofs, off
// chain and by the registry. Exit code 0 when every check passes, 1 when one fails.
import { parseArgs } from 'node:util';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { Contract, JsonRpcProvider, type InterfaceAbi } from 'ethers';
import registryArtifact from '../contracts/artifacts/VerdictRegistry.json' with { type: 'json' };
import { caseKeyOf } from '../src/chain/index.js';
import { computeCommitment } from '../src/domain/commitment.js';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { LEDGER_LEAF_ENCODING } from '../src/domain/ledger.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { api: { type: 'string' }, rpc: { type: 'string' }, token: { type: 'string' } },
});
const caseId = positionals[0];
if (!caseId) {
  console.error('Usage: npm run verify -- <caseId> [--api http://localhost:4000/graphql] [--rpc <url>]');
  process.exit(2);
}
const api = values.api ?? process.env.VERDICT_API_URL ?? 'http://localhost:4000/graphql';

const response = await fetch(api, {
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(values.token ? { authorization: `Bearer ${values.token}` } : {}) },
  body: JSON.stringify({
    query: `query ($id: ID!) {
      case(id: $id) {
        id status title opensAt ruling { side reasoning salt }
        voteTimeline { firstVoteAt }
        settlement { pool paid treasury outcome reason byKind { kind points } }
        ledger { root leafCount }
        ${values.token ? 'myReceipt { userKey entries { entry detail value leaf proof } }' : ''}
      }
      chain { chainId registryAddress rpcUrl }
    }`,
    variables: { id: caseId },
  }),
});
const { data, errors } = (await response.json()) as { data?: any; errors?: { message: string }[] };
if (errors?.length || !data?.case) {
  console.error(errors?.[0]?.message ?? `No case ${caseId} at ${api}`);
  process.exit(1);
}
const uuid = decodeGlobalID(data.case.id).id;
const rpc = values.rpc ?? process.env.CHAIN_RPC_URL ?? data.chain.rpcUrl;
if (!rpc) {
  console.error('The API does not publish its chain RPC: pass --rpc <url> (or CHAIN_RPC_URL).');
  process.exit(2);
}

const provider = new JsonRpcProvider(rpc, undefined, { staticNetwork: true });
const chainId = (await provider.getNetwork()).chainId;
if (chainId.toString() !== data.chain.chainId) {
  console.error(`The RPC serves chain ${chainId}, the API seals on chain ${data.chain.chainId}.`);
  process.exit(1);
}
const registry = new Contract(data.chain.registryAddress, registryArtifact.abi as InterfaceAbi, provider);
const key = caseKeyOf(uuid);
const [onChainRaw, committedAt, revealableFrom, revealedAt, revealedSide, ledgerRoot] = (await registry.getFunction('recordOf')(key)) as [string, bigint, bigint, bigint, bigint, string];
const onChain = onChainRaw.toLowerCase();
const [event] = await registry.queryFilter(registry.filters.Committed!(key), 0, 'latest');
const commitBlock = event ? await provider.getBlock(event.blockNumber) : null;

let failed = false;
const check = (ok: boolean, pass: string, fail: string) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'}  ${ok ? pass : fail}`);
  if (!ok) failed = true;
};
const seconds = (iso: string) => Math.floor(new Date(iso).getTime() / 1000);

console.log(`case          ${uuid} (${data.case.status}) ${data.case.title}`);
console.log(`chain         ${chainId}, registry ${data.chain.registryAddress}`);
console.log(`on chain      ${onChain}`);
console.log(`transaction   ${event ? `${event.transactionHash} (block ${event.blockNumber}, ${new Date(Number(committedAt) * 1000).toISOString()})` : 'not found'}`);
console.log(`revealable    from ${revealableFrom > 0n ? new Date(Number(revealableFrom) * 1000).toISOString() : '(not recorded: an older registry)'}`);
check(!/^0x0+$/.test(onChain), 'the registry holds a commitment for this case', 'the registry holds no commitment for this case');
if (commitBlock) {
  check(seconds(data.case.opensAt) > commitBlock.timestamp, 'the case opened after the block that holds its commitment', `the case opened at ${data.case.opensAt}, not after its commitment's block (${commitBlock.timestamp})`);
  const first = data.case.voteTimeline?.firstVoteAt;
  if (first) check(seconds(first) > commitBlock.timestamp, 'every vote came after the commitment was mined', `a vote came at ${first}, before the commitment was mined`);
}

if (!data.case.ruling) {
  console.log('ruling        sealed until the case closes; nothing to recompute yet');
  provider.destroy();
  process.exit(failed ? 1 : 0);
}
const { side, reasoning, salt } = data.case.ruling;
const recomputed = computeCommitment({
  chainId,
  registryAddress: data.chain.registryAddress,
  caseId: uuid,
  side,
  reasoning,
  salt: Buffer.from(salt.slice(2), 'hex'),
});
console.log(`ruling        side ${side}`);
console.log(`recomputed    ${recomputed}`);
console.log(recomputed === onChain ? 'MATCH: the revealed ruling is the one sealed before voting.' : 'MISMATCH: the revealed ruling is not the one on chain.');
if (recomputed !== onChain) failed = true;

const s = data.case.settlement;
if (s) {
  console.log(`settlement    ${s.outcome}: pool ${s.pool}, paid ${s.paid}, treasury ${s.treasury}${s.reason ? ` (${s.reason})` : ''}`);
  check(s.paid + s.treasury === s.pool, 'paid + treasury = pool', 'paid + treasury ≠ pool');
  const byKind = s.byKind.reduce((sum: number, k: { points: number }) => sum + k.points, 0);
  check(byKind === s.paid, 'the reward lines add up to what was paid', `the reward lines add up to ${byKind}, not ${s.paid}`);
}
if (revealedSide === 0n) {
  console.log('reveal        not on chain yet (the registry accepts it from the committed closing time)');
} else {
  console.log(`reveal        side ${revealedSide === 1n ? 'A' : 'B'} at ${new Date(Number(revealedAt) * 1000).toISOString()}, ledger root ${ledgerRoot}`);
  check((revealedSide === 1n ? 'A' : 'B') === side, 'the registry recorded the revealed side (it rechecked the commitment itself)', 'the registry recorded another side');
  if (data.case.ledger) check(ledgerRoot.toLowerCase() === data.case.ledger.root, 'the ledger root on chain is the one Verdict publishes', 'the ledger root on chain differs from the published one');
}
const receipt = data.case.myReceipt;
if (receipt) {
  for (const e of receipt.entries) {
    // The leaf's values, as documented (README, "A ledger leaf"), checked with OpenZeppelin's own library.
    const values = [key, e.entry, receipt.userKey, e.detail, BigInt(e.value)];
    const offChain = revealedSide !== 0n && StandardMerkleTree.verify(ledgerRoot, LEDGER_LEAF_ENCODING, values, e.proof);
    const byRegistry = (await registry.getFunction('verifyLedgerEntry')(key, e.leaf, e.proof)) as boolean;
    check(offChain && byRegistry, `your ${e.entry} ${e.detail} ${e.value} is in the revealed ledger`, `your ${e.entry} ${e.detail} ${e.value} is not proven by the revealed ledger`);
  }
} else if (values.token) {
  console.log('receipt       none yet (the ledger is built when the case closes)');
}
provider.destroy();
process.exit(failed ? 1 : 0);
