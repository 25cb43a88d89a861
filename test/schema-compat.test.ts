// npm run schema:compat: breaking schema changes must be announced in CHANGELOG.md under the version
// being made; deprecations must say why. The checks on SDL strings, then the script in throwaway
// git repositories.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { changelogSection, checkSchemaCompatibility } from '../scripts/schema-compatibility.js';

const SDL = `type Query {
  case(id: ID!, full: Boolean): Case
  cases: [Case!]!
}

type Case {
  id: ID!
  title: String!
  titles: [String!]!
}
`;
const withoutTitle = SDL.replace('  title: String!\n', '');
const changelog = (current: string, older = '') =>
  `# Changelog\n\n## [Unreleased]\n\n## [0.2.0] - 2026-12-01\n${current}\n\n## 0.1.0\n${older}\n`;

const check = (sdl: string, log = changelog('')) =>
  checkSchemaCompatibility({ baseSdl: SDL, sdl, changelog: log, version: '0.2.0' });
const unannounced = async (sdl: string, log?: string) => (await check(sdl, log)).unannounced.map((c) => c.path);

describe('breaking changes', () => {
  it('no change passes', async () => {
    const report = await check(SDL);
    expect(report.changes).toEqual([]);
    expect(report.unannounced).toEqual([]);
  });

  it('an added field or type passes', async () => {
    const report = await check(`${SDL.replace('  cases:', '  trending: [Case!]!\n  cases:')}\ntype Topic {\n  name: String!\n}\n`);
    expect(report.changes.map((c) => [c.path, c.criticality.level])).toEqual([
      ['Topic', 'NON_BREAKING'],
      ['Topic.name', 'NON_BREAKING'],
      ['Query.trending', 'NON_BREAKING'],
    ]);
    expect(report.unannounced).toEqual([]);
  });

  it('a removed field fails, named by its coordinate', async () => {
    expect(await unannounced(withoutTitle)).toEqual(['Case.title']);
  });

  it('passes when the current version’s section names the coordinate in backticks', async () => {
    expect(await unannounced(withoutTitle, changelog('### Removed\n- `Case.title`: read `titles`.'))).toEqual([]);
  });

  it('a mention under an older version, without backticks, or inside a longer name does not count', async () => {
    expect(await unannounced(withoutTitle, changelog('', '- `Case.title` removed'))).toEqual(['Case.title']);
    expect(await unannounced(withoutTitle, changelog('- Case.title removed'))).toEqual(['Case.title']);
    expect(await unannounced(withoutTitle, changelog('- `Case.titles` changed'))).toEqual(['Case.title']);
    expect(await unannounced(withoutTitle, changelog('- `Case` changed'))).toEqual(['Case.title']);
  });

  it('an argument is named `Type.field.arg` or `Type.field(arg:)`', async () => {
    const sdl = SDL.replace(', full: Boolean', '');
    expect(await unannounced(sdl)).toEqual(['Query.case.full']);
    expect(await unannounced(sdl, changelog('- `Query.case.full` removed'))).toEqual([]);
    expect(await unannounced(sdl, changelog('- `Query.case(full:)` removed'))).toEqual([]);
  });

  it('finds the version’s section by `## 0.2.0` or `## [0.2.0] - date`, not a pre-release', () => {
    expect(changelogSection('## 0.2.0\nA\n## 0.1.0\nB', '0.2.0')).toBe('A');
    expect(changelogSection('## [0.2.0] - 2026-12-01\nA\n### Removed\nC\n## [0.1.0]\nB', '0.2.0')).toBe('A\n### Removed\nC');
    expect(changelogSection('## 0.2.0-rc.1\nA', '0.2.0')).toBeUndefined();
  });
});

describe('deprecations', () => {
  const deprecate = (directive: string) => SDL.replace('  titles: [String!]!', `  titles: [String!]! ${directive}`);

  it('fail without a reason, with an empty one or with the default one', async () => {
    for (const directive of ['@deprecated', '@deprecated(reason: "")', '@deprecated(reason: "No longer supported")']) {
      expect((await check(deprecate(directive))).badDeprecations).toEqual(['Case.titles']);
    }
  });

  it('pass with a reason, and arguments are named too', async () => {
    expect((await check(deprecate('@deprecated(reason: "Use `title`.")'))).badDeprecations).toEqual([]);
    expect((await check(SDL.replace('full: Boolean', 'full: Boolean @deprecated'))).badDeprecations).toEqual(['Query.case.full']);
  });
});

describe('npm run schema:compat in a git repository', { timeout: 120_000 }, () => {
  const script = path.resolve(import.meta.dirname, '../scripts/schema-compatibility.ts');
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

  const env = {
    PATH: process.env.PATH,
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'test',
    GIT_AUTHOR_EMAIL: 'test@example.com',
    GIT_COMMITTER_NAME: 'test',
    GIT_COMMITTER_EMAIL: 'test@example.com',
  };
  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env, encoding: 'utf8' });

  function repository(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-schema-'));
    dirs.push(dir);
    git(dir, 'init', '-q', '-b', 'main');
    return dir;
  }

  function commit(dir: string, files: Record<string, string>) {
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    git(dir, 'add', ...Object.keys(files));
    git(dir, 'commit', '-q', '-m', Object.keys(files).join(' '));
  }

  const start = { 'package.json': '{ "version": "0.2.0" }', 'CHANGELOG.md': changelog(''), 'schema.graphql': SDL };

  function run(cwd: string, ...args: string[]): Promise<{ code: number; output: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, ['--import', tsx, script, ...args], { cwd, env }, (error, stdout, stderr) =>
        resolve({ code: error ? (error.code as number) : 0, output: stdout + stderr }),
      );
    });
  }

  it('fails on the removal committed on main, and passes once the changelog names it', async () => {
    const dir = repository();
    commit(dir, start);
    commit(dir, { 'schema.graphql': withoutTitle });

    const refused = await run(dir);
    expect(refused.output).toMatch(/BREAKING +Case\.title: Field 'title' was removed from object type 'Case'/);
    expect(refused.output).toContain('name `Case.title` in CHANGELOG.md under "## 0.2.0"');
    expect(refused.code).toBe(1);

    fs.writeFileSync(path.join(dir, 'CHANGELOG.md'), changelog('- `Case.title`: removed, read `titles`.'));
    const announced = await run(dir);
    expect(announced.output).toMatch(/against HEAD~1 \(\w+\): 1 change\(s\)/);
    expect(announced.code).toBe(0);
  });

  it('on a branch, compares with the merge base with main, not only the last commit', async () => {
    const dir = repository();
    commit(dir, start);
    git(dir, 'checkout', '-q', '-b', 'feature');
    commit(dir, { 'schema.graphql': withoutTitle });
    commit(dir, { 'package.json': '{ "version": "0.2.0", "private": true }' });

    const result = await run(dir);
    expect(result.output).toContain('Case.title');
    expect(result.code).toBe(1);
  });

  it('prints a dangerous change and passes', async () => {
    const dir = repository();
    commit(dir, { ...start, 'schema.graphql': `${SDL}\nenum Side {\n  A\n  B\n}\n` });
    commit(dir, { 'schema.graphql': `${SDL}\nenum Side {\n  A\n  B\n  C\n}\n` });

    const result = await run(dir);
    expect(result.output).toMatch(/DANGEROUS +Side\.C/);
    expect(result.code).toBe(0);
  });

  it('fails on a deprecation without a reason', async () => {
    const dir = repository();
    commit(dir, start);
    fs.writeFileSync(path.join(dir, 'schema.graphql'), SDL.replace('titles: [String!]!', 'titles: [String!]! @deprecated'));

    const result = await run(dir);
    expect(result.output).toContain('@deprecated without a reason on Case.titles');
    expect(result.code).toBe(1);
  });

  it('passes with a message when there is no base: one commit, a base without schema.graphql, a shallow clone', async () => {
    const dir = repository();
    commit(dir, { ...start, 'schema.graphql': withoutTitle });
    expect(await run(dir)).toEqual({ code: 0, output: expect.stringContaining('has 1 commit, no base revision HEAD~1') });

    const grown = repository();
    commit(grown, { 'package.json': start['package.json'] });
    commit(grown, { 'schema.graphql': withoutTitle });
    expect(await run(grown)).toEqual({ code: 0, output: expect.stringContaining('HEAD~1 has no schema.graphql') });

    const origin = repository();
    commit(origin, start);
    commit(origin, { 'schema.graphql': withoutTitle });
    const shallow = path.join(origin, 'shallow');
    git(origin, 'clone', '-q', '--depth', '1', pathToFileURL(origin).href, shallow);
    expect(await run(shallow)).toEqual({ code: 0, output: expect.stringContaining('not in this shallow clone') });
  });

  it('fails when a base named explicitly does not exist in a full clone', async () => {
    const dir = repository();
    commit(dir, start);
    const result = await run(dir, '--base', 'v9.9.9');
    expect(result.output).toContain('base revision v9.9.9 does not exist');
    expect(result.code).toBe(1);
  });
});
