import fs from 'node:fs';

/**
 * The error codes of README.md's error table ("| code | when |"), read from the README itself so
 * the fuzz suite holds the server to what is documented, not to a copy of it.
 */
export function readmeErrorCodes(readmePath = new URL('../../../README.md', import.meta.url)): Set<string> {
  const lines = fs.readFileSync(readmePath, 'utf8').split('\n');
  const header = lines.findIndex((line) => /^\|\s*code\s*\|\s*when\s*\|/.test(line));
  if (header < 0) throw new Error('README.md has no "| code | when |" table');
  const codes = new Set<string>();
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const first = line.split('|')[1] ?? '';
    for (const match of first.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) codes.add(match[1]!);
  }
  if (codes.size === 0) throw new Error('README.md error table lists no codes');
  return codes;
}
