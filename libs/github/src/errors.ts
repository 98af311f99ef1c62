export type ExitCode = 1 | 2 | 3;

export interface GitHubErrorDetails {
  code?: string;
  exitCode?: ExitCode;
  /** HTTP status; undefined when no response arrived (network failure). */
  status?: number | undefined;
  method?: string;
  /** Request path, e.g. /repos/acme/platform/git/refs (never the token). */
  path?: string;
  documentationUrl?: string | undefined;
  requestId?: string | undefined;
  /** GitHub's validation errors (422), as sent. */
  errors?: readonly Record<string, unknown>[];
  /** A rate limit: the earliest time (RFC 3339) GitHub allows the next try. */
  retryAt?: string | undefined;
  cause?: unknown;
}

/**
 * A GitHub API call failed. Translated from Octokit's RequestError at the edge: the request (with
 * its Authorization header) is not carried, and the token is scrubbed from every string kept.
 */
export class GitHubError extends Error {
  override readonly name: string = 'GitHubError';
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly status: number | undefined;
  readonly method: string;
  readonly path: string;
  readonly documentationUrl: string | undefined;
  readonly requestId: string | undefined;
  readonly errors: readonly Record<string, unknown>[];
  /** A rate limit: the earliest time (RFC 3339) GitHub allows the next try. */
  readonly retryAt: string | undefined;

  constructor(message: string, details: GitHubErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = details.code ?? 'E_GITHUB';
    this.exitCode = details.exitCode ?? 1;
    this.status = details.status;
    this.method = details.method ?? '';
    this.path = details.path ?? '';
    this.documentationUrl = details.documentationUrl;
    this.requestId = details.requestId;
    this.errors = details.errors ?? [];
    this.retryAt = details.retryAt;
  }
}

/** What a git ref on GitHub points at. */
export interface GitRef {
  /** Full name, e.g. refs/tags/1.2.0-staging.3 */
  ref: string;
  /** The object the ref names (a tag object for annotated tags). */
  sha: string;
  type: string;
  /** The commit it names, peeled through annotated tags; undefined if it names no commit. */
  commit: string | undefined;
}

/**
 * GitHub answered 422 "Reference already exists". Callers reserving a name (staging `N`) retry
 * with the next one, or accept it when `existing.commit` is theirs; otherwise a refusal (exit 3).
 */
export class GitHubRefExistsError extends GitHubError {
  override readonly name: string = 'GitHubRefExistsError';
  readonly ref: string;
  /** Read back after the 422; undefined if it vanished in between. */
  readonly existing: GitRef | undefined;

  constructor(ref: string, existing: GitRef | undefined, details: GitHubErrorDetails = {}) {
    super(
      existing?.commit ? `${ref} already exists on GitHub (at ${existing.commit.slice(0, 12)})` : `${ref} already exists on GitHub`,
      { ...details, code: 'E_GITHUB_REF_EXISTS', exitCode: 3 },
    );
    this.ref = ref;
    this.existing = existing;
  }
}

/** A release for the tag exists but belongs to another commit (or can't be shown to be ours): refused. */
export class ReleaseConflictError extends GitHubError {
  override readonly name: string = 'ReleaseConflictError';
  readonly tag: string;
  readonly expected: string;
  readonly actual: string | undefined;

  constructor(tag: string, expected: string, actual: string | undefined) {
    super(
      actual
        ? `GitHub release ${tag} exists for commit ${actual.slice(0, 12)}, not ${expected.slice(0, 12)}; releases are immutable`
        : `GitHub release ${tag} exists but its tag is not on GitHub, so it cannot be shown to be commit ${expected.slice(0, 12)}; refusing to touch it`,
      { code: 'E_GITHUB_RELEASE_CONFLICT', exitCode: 3 },
    );
    this.tag = tag;
    this.expected = expected;
    this.actual = actual;
  }
}
