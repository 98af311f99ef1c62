export { createGit } from './create-git.js';
export type { GitOptions } from './create-git.js';
export type { CommitInfo, CreateTagInput, LogRange, SourceControl, TagInfo } from './types.js';
export {
  GitError,
  InvalidRefError,
  NonFastForwardError,
  RebaseConflictError,
  RefExistsError,
  RefNotFoundError,
  TagConflictError,
} from './errors.js';
export type { ExitCode, GitErrorDetails, RefTarget } from './errors.js';
export { redact } from './redact.js';
