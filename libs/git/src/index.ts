export { createGit } from './create-git.js';
export type { GitOptions } from './create-git.js';
export { cloneRepository } from './work-tree.js';
export { DEFAULT_REMOTE_TIMEOUT_MS, REMOTE_TIMEOUT_ENV } from './remote-limits.js';
export type { CloneInput, CommitFilesInput, GitIdentity, TreeEntry, WorkTreeOperations, WorkTreeState } from './work-tree.js';
export type { CommittedTree, TreeEntry as CommittedTreeEntry, TreeFile } from './tree-files.js';
export type { CommitInfo, CreateTagInput, LogRange, RemoteTag, SourceControl, TagInfo } from './types.js';
export {
  GitError,
  GitTimeoutError,
  InvalidGitSettingError,
  InvalidRefError,
  NonFastForwardError,
  RefExistsError,
  RefNotFoundError,
  TagConflictError,
} from './errors.js';
export type { ExitCode, GitErrorDetails, RefTarget } from './errors.js';
export { redact } from '@slipway/redact';
