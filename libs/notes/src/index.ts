export { parseCommit } from './parse-commit.js';
export type { ChangeGroup, CommitInput, ParsedCommit } from './parse-commit.js';
export { CHANGE_GROUPS, groupCommits, recommendedBump } from './group-commits.js';
export type { Bump, GroupedCommits } from './group-commits.js';
export { renderNotes } from './render-notes.js';
export type { NotesInput } from './render-notes.js';
export {
  DEFAULT_CHANGELOG_DIR,
  changelogPathFor,
  prependChangelog,
  readVersionChangelog,
  seedVersionChangelog,
} from './changelog.js';
export type { Updater } from './changelog.js';
export { blastRadius, renderBlastRadiusTable } from './blast-radius.js';
export type {
  BlastCommit,
  BlastCommitInput,
  BlastRadius,
  BlastRadiusInput,
  BlastServiceInput,
  ServiceImpact,
} from './blast-radius.js';
export { ChangelogError } from './errors.js';
export type { ChangelogErrorCode } from './errors.js';
