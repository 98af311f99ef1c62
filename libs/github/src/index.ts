export { createGitHub } from './create-github.js';
export type { GitHubOptions } from './create-github.js';
export type { RetryOptions } from './retry.js';
export type { EnsureReleaseResult, MakeLatest, Release, ReleaseHost, ReleaseInput, ReleaseUpdate } from './types.js';
export { GitHubError, GitHubRefExistsError, ReleaseConflictError } from './errors.js';
export { GitHubRefusedError } from './guarded-fetch.js';
export type { ExitCode, GitHubErrorDetails, GitRef } from './errors.js';
export { redact } from '@slipway/redact';
