// npm run verify -- <caseId> [--api <graphql url>] [--rpc <json-rpc url>]
// Checks a ruling from the public API and the chain alone (no database): reads the sealed
// commitment from the registry and, once the case is closed, recomputes it from the revealed
// ruling and salt. Exit code 0 when they match (or the case is still open), 1 when not.
import { parseArgs } from 'node:util';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { Contract, JsonRpcProvider, type InterfaceAbi } from 'ethers';
import registryArtifact from '../contracts/artifacts/VerdictRegistry.json' with { type: 'json' };
import { caseKeyOf } from '../src/chain/index.js';
import { computeCommitment } from '../src/domain/commitment.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { api: { type: 'string' }, rpc: { type: 'string' } },
});
const caseId = positionals[0];
if (!caseId) {
  console.error('Usage: npm run verify -- <caseId> [--api http://localhost:4000/graphql] [--rpc <url>]');
  process.exit(2);
}
const api = values.api ?? process.env.VERDICT_API_URL ?? 'http://localhost:4000/graphql';

const response = await fetch(api, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    query: `query ($id: ID!) {
      case(id: $id) { id status title ruling { side reasoning salt } }
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
const onChain = ((await registry.getFunction('commitmentOf')(key)) as string).toLowerCase();
const [event] = await registry.queryFilter(registry.filters.Committed!(key), 0, 'latest');
provider.destroy();

console.log(`case          ${uuid} (${data.case.status}) ${data.case.title}`);
console.log(`chain         ${chainId}, registry ${data.chain.registryAddress}`);
console.log(`on chain      ${onChain}`);
console.log(`transaction   ${event ? `${event.transactionHash} (block ${event.blockNumber})` : 'not found'}`);

if (!data.case.ruling) {
  console.log('ruling        sealed until the case closes; nothing to recompute yet');
  process.exit(/^0x0+$/.test(onChain) ? 1 : 0);
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
process.exit(recomputed === onChain ? 0 : 1);
