// Compiles contracts/*.sol offline with solc-js for the `shanghai` EVM and writes
// contracts/artifacts/<Name>.json ({ abi, bytecode }). With --check, fails when they differ.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import solc from 'solc';

const require = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, '..');
const contractsDir = path.join(root, 'contracts');
const artifactsDir = path.join(contractsDir, 'artifacts');
const CONTRACTS = ['VerdictRegistry', 'VerdictPoints'];

function findImport(importPath: string) {
  try {
    return { contents: fs.readFileSync(require.resolve(importPath), 'utf8') };
  } catch {
    return { error: `Not found: ${importPath}` };
  }
}

export function compileContracts(): Record<string, string> {
  const sources = Object.fromEntries(
    CONTRACTS.map((name) => [`${name}.sol`, { content: fs.readFileSync(path.join(contractsDir, `${name}.sol`), 'utf8') }]),
  );
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      evmVersion: 'shanghai',
      optimizer: { enabled: true, runs: 200 },
      metadata: { bytecodeHash: 'none' },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const errors = (output.errors ?? []).filter((e: { severity: string }) => e.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((e: { formattedMessage: string }) => e.formattedMessage).join('\n'));
  return Object.fromEntries(
    CONTRACTS.map((name) => {
      const contract = output.contracts[`${name}.sol`][name];
      const artifact = { contractName: name, abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` };
      return [name, `${JSON.stringify(artifact, null, 2)}\n`];
    }),
  );
}

const check = process.argv.includes('--check');
const artifacts = compileContracts();
let stale = false;
fs.mkdirSync(artifactsDir, { recursive: true });
for (const [name, text] of Object.entries(artifacts)) {
  const file = path.join(artifactsDir, `${name}.json`);
  if (check) {
    if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) {
      console.error(`contracts/artifacts/${name}.json is stale: run \`npm run contracts:compile\`.`);
      stale = true;
    }
  } else {
    fs.writeFileSync(file, text);
    console.log(`Wrote contracts/artifacts/${name}.json`);
  }
}
if (stale) process.exit(1);
