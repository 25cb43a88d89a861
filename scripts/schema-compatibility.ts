// npm run schema:compat [-- --base <rev>]   (or SCHEMA_BASE=<rev>)
// Compares the working tree's schema.graphql with the one of a base revision (@graphql-inspector)
// and prints every change with its criticality. Exit code 1 when:
// - a BREAKING change is not announced in CHANGELOG.md under the version being made (package.json's
//   "version", heading `## 0.1.0` or `## [0.1.0] - date`). A change is announced when that section
//   holds its schema coordinate as an inline code span: the `path` inspector reports, `Type`,
//   `Type.field`, `Enum.VALUE`, `Type.field.arg` (or `Type.field(arg:)`), `@directive`. Backticks
//   keep a type name from matching a plain word ("Case") and `Case.title` from matching inside
//   `Case.titles`. A change without a path is named by its type (`SCHEMA_QUERY_TYPE_CHANGED`).
//   Mentions under an older version or under Unreleased do not count.
// - a `@deprecated` has no reason, an empty one, or GraphQL's default "No longer supported".
// DANGEROUS changes are printed and pass.
// Base: --base, else SCHEMA_BASE, else HEAD~1 when HEAD is on main (or origin/main), else the
// merge base with main. With one commit, a base without schema.graphql, or a default base missing
// from a shallow clone it says so and passes; an explicit base missing from a full clone fails.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CriticalityLevel, diff, type Change } from '@graphql-inspector/core';
import { buildSchema, DEFAULT_DEPRECATION_REASON, GraphQLDeprecatedDirective, parse, visit } from 'graphql';

export interface CompatibilityReport {
  changes: Change[];
  unannounced: Change[];
  badDeprecations: string[];
}

export async function checkSchemaCompatibility(input: {
  baseSdl: string;
  sdl: string;
  changelog: string;
  version: string;
}): Promise<CompatibilityReport> {
  const changes = await diff(buildSchema(input.baseSdl), buildSchema(input.sdl));
  const section = changelogSection(input.changelog, input.version) ?? '';
  const unannounced = changes.filter(
    (change) => change.criticality.level === CriticalityLevel.Breaking && !announces(section, change),
  );
  return { changes, unannounced, badDeprecations: deprecationsWithoutReason(input.sdl) };
}

/** The text under `## <version>` or `## [<version>]`, up to the next level-2 heading. */
export function changelogSection(changelog: string, version: string): string | undefined {
  const escaped = version.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const heading = new RegExp(`^##[ \\t]+\\[?v?${escaped}\\]?(?:[ \\t]|$)`);
  const lines = changelog.split(/\r?\n/);
  const start = lines.findIndex((line) => heading.test(line));
  if (start < 0) return undefined;
  const end = lines.findIndex((line, i) => i > start && /^##[ \t]/.test(line));
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** What CHANGELOG.md must name to announce a change (the first is the one to write). */
export function coordinatesOf(change: Change): string[] {
  if (!change.path) return [change.type];
  const argument = /^(\w+)\.(\w+)\.(\w+)$/.exec(change.path) ?? /^(@\w+)\.(\w+)$/.exec(change.path);
  if (!argument) return [change.path];
  const [, owner, field, arg] = argument;
  return [change.path, arg === undefined ? `${owner}(${field}:)` : `${owner}.${field}(${arg}:)`];
}

function announces(section: string, change: Change): boolean {
  return coordinatesOf(change).some((coordinate) => section.includes(`\`${coordinate}\``));
}

/** Coordinates whose @deprecated gives no reason, an empty one, or GraphQL's default. */
export function deprecationsWithoutReason(sdl: string): string[] {
  const found: string[] = [];
  const names: string[] = [];
  const enter = (node: { name: { value: string } }) => void names.push(node.name.value);
  const leave = () => void names.pop();
  const owner = { enter, leave };
  visit(parse(sdl), {
    ObjectTypeDefinition: owner,
    ObjectTypeExtension: owner,
    InterfaceTypeDefinition: owner,
    InterfaceTypeExtension: owner,
    InputObjectTypeDefinition: owner,
    InputObjectTypeExtension: owner,
    EnumTypeDefinition: owner,
    EnumTypeExtension: owner,
    FieldDefinition: owner,
    InputValueDefinition: owner,
    EnumValueDefinition: owner,
    DirectiveDefinition: {
      enter: (node) => void names.push(`@${node.name.value}`),
      leave,
    },
    Directive(node) {
      if (node.name.value !== GraphQLDeprecatedDirective.name) return;
      const reason = node.arguments?.find((arg) => arg.name.value === 'reason')?.value;
      const text = reason?.kind === 'StringValue' ? reason.value.trim() : '';
      if (text === '' || text === DEFAULT_DEPRECATION_REASON) found.push(names.join('.'));
    },
  });
  return found;
}

function git(cwd: string, ...args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function defaultBase(cwd: string): string {
  const main = ['main', 'origin/main'].find((ref) => git(cwd, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`));
  if (!main || git(cwd, 'merge-base', '--is-ancestor', 'HEAD', main) !== undefined) return 'HEAD~1';
  return git(cwd, 'merge-base', 'HEAD', main) ?? 'HEAD~1';
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { base: { type: 'string' } } });
  const root = git(process.cwd(), 'rev-parse', '--show-toplevel');
  if (!root) {
    console.log('schema compatibility: not a git repository, nothing to compare with.');
    return 0;
  }
  const explicitBase = values.base ?? (process.env.SCHEMA_BASE || undefined);
  const base = explicitBase ?? defaultBase(root);

  const schemaFile = path.join(root, 'schema.graphql');
  if (!fs.existsSync(schemaFile)) {
    console.error('schema compatibility: schema.graphql is missing; run `npm run schema:print`.');
    return 1;
  }
  const sdl = fs.readFileSync(schemaFile, 'utf8');
  const badDeprecations = deprecationsWithoutReason(sdl);
  for (const coordinate of badDeprecations) {
    console.error(`@deprecated without a reason on ${coordinate}: say why, and what to use instead.`);
  }

  const baseCommit = git(root, 'rev-parse', '--verify', '--quiet', `${base}^{commit}`);
  if (!baseCommit) {
    const shallow = git(root, 'rev-parse', '--is-shallow-repository') === 'true';
    const commits = git(root, 'rev-list', '--count', 'HEAD');
    if (explicitBase && !shallow) {
      console.error(`schema compatibility: base revision ${base} does not exist.`);
      return 1;
    }
    console.log(
      shallow
        ? `schema compatibility: base revision ${base} is not in this shallow clone; not compared (fetch more history to compare).`
        : `schema compatibility: the repository has ${commits ?? 'no'} commit${commits === '1' ? '' : 's'}, no base revision ${base}; not compared.`,
    );
    return badDeprecations.length ? 1 : 0;
  }
  const baseSdl = git(root, 'show', `${baseCommit}:schema.graphql`);
  if (baseSdl === undefined) {
    console.log(`schema compatibility: ${base} has no schema.graphql; not compared.`);
    return badDeprecations.length ? 1 : 0;
  }

  const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  const changelogFile = path.join(root, 'CHANGELOG.md');
  const changelog = fs.existsSync(changelogFile) ? fs.readFileSync(changelogFile, 'utf8') : '';
  const report = await checkSchemaCompatibility({ baseSdl, sdl, changelog, version });

  const short = git(root, 'rev-parse', '--short', baseCommit) ?? baseCommit;
  console.log(`schema.graphql against ${base} (${short}): ${report.changes.length} change(s).`);
  for (const change of report.changes) {
    const level = change.criticality.level.padEnd(12);
    const reason = change.criticality.reason ? ` (${change.criticality.reason})` : '';
    console.log(`  ${level} ${change.path ?? change.type}: ${change.message}${reason}`);
  }
  for (const change of report.unannounced) {
    console.error(
      `Breaking change not announced: name \`${coordinatesOf(change)[0]}\` in CHANGELOG.md under "## ${version}", or keep the old API (deprecate it with a reason).`,
    );
  }
  return report.unannounced.length || badDeprecations.length ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main();
}
