import type { ChangeGroup, ParsedCommit } from './parse-commit.js';

/** The order groups appear in notes and tables. */
export const CHANGE_GROUPS: readonly ChangeGroup[] = ['breaking', 'features', 'fixes', 'other'];

export type GroupedCommits = Record<ChangeGroup, ParsedCommit[]>;

/**
 * Splits commits into disjoint groups. A breaking `feat!:` appears only under `breaking`.
 * Within a group commits keep the order they were given in (`git log` order: newest first).
 */
export function groupCommits(commits: readonly ParsedCommit[]): GroupedCommits {
  const groups: GroupedCommits = { breaking: [], features: [], fixes: [], other: [] };
  for (const commit of commits) groups[commit.group].push(commit);
  return groups;
}

export type Bump = 'major' | 'minor' | 'patch';

/**
 * The semver bump conventional commits call for: breaking → major, feat → minor, anything else → patch;
 * undefined for no commits. With `preMajor` (a 0.x line) breaking → minor and feat → patch.
 */
export function recommendedBump(
  commits: readonly ParsedCommit[],
  options: { preMajor?: boolean } = {},
): Bump | undefined {
  if (commits.length === 0) return undefined;
  const breaking = commits.some((c) => c.breaking);
  const feature = commits.some((c) => c.type === 'feat');
  if (options.preMajor) return breaking ? 'minor' : 'patch';
  if (breaking) return 'major';
  return feature ? 'minor' : 'patch';
}
