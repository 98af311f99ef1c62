export type ExitCode = 1 | 2 | 3;

export interface GitErrorDetails {
  /** The git command line, credentials redacted. */
  command?: string;
  /** git's own exit status; undefined when git could not be started. */
  status?: number | undefined;
  /** git's stderr, credentials redacted. */
  stderr?: string;
  cause?: unknown;
}

/** A git command failed. Operational (exit 1) unless a subclass says otherwise. */
export class GitError extends Error {
  override readonly name: string = 'GitError';
  readonly code: string = 'E_GIT';
  readonly exitCode: ExitCode = 1;
  readonly command: string;
  readonly status: number | undefined;
  readonly stderr: string;

  constructor(message: string, details: GitErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.command = details.command ?? '';
    this.status = details.status;
    this.stderr = details.stderr ?? '';
  }
}

/** A ref, tag or revision argument is malformed (e.g. starts with `-`). */
export class InvalidRefError extends GitError {
  override readonly name: string = 'InvalidRefError';
  override readonly code: string = 'E_GIT_INVALID_REF';
  override readonly exitCode: ExitCode = 2;
  readonly ref: string;

  constructor(ref: string, reason: string, details: GitErrorDetails = {}) {
    super(`invalid ref ${JSON.stringify(ref)}: ${reason}`, details);
    this.ref = ref;
  }
}

/** A revision does not name a commit in this repository. */
export class RefNotFoundError extends GitError {
  override readonly name: string = 'RefNotFoundError';
  override readonly code: string = 'E_GIT_REF_NOT_FOUND';
  readonly ref: string;

  constructor(ref: string, details: GitErrorDetails = {}) {
    super(`${ref} does not name a commit in this repository (fetch it first?)`, details);
    this.ref = ref;
  }
}

/** What an existing ref points at: the object it names and, peeled, the commit. */
export interface RefTarget {
  object: string;
  commit: string;
}

/**
 * A ref that had to be new already exists (locally for `createTag`, on origin for pushes). Tags
 * are immutable, so when nobody handles it this is a refusal (exit 3); callers that reserve or
 * re-run compare `existing.commit` with what they wanted.
 */
export class RefExistsError extends GitError {
  override readonly name: string = 'RefExistsError';
  override readonly code: string = 'E_GIT_REF_EXISTS';
  override readonly exitCode: ExitCode = 3;
  readonly ref: string;
  /** What the ref points at; undefined only when it could not be read back. */
  readonly existing: RefTarget | undefined;

  constructor(ref: string, existing: RefTarget | undefined, details: GitErrorDetails = {}) {
    super(
      `${ref} already exists${existing ? ` (at ${existing.commit.slice(0, 12)})` : ''}${ref.startsWith('refs/tags/') ? '; tags are immutable' : ''}`,
      details,
    );
    this.ref = ref;
    this.existing = existing;
  }
}

/** Origin's branch moved on: fetch, rebase and push again. */
export class NonFastForwardError extends GitError {
  override readonly name: string = 'NonFastForwardError';
  override readonly code: string = 'E_GIT_NON_FAST_FORWARD';
  readonly ref: string;

  constructor(ref: string, reason: string, details: GitErrorDetails = {}) {
    super(`push of ${ref} rejected (${reason}): origin has commits this clone does not; rebase and retry`, details);
    this.ref = ref;
  }
}

/** Local tags differ from origin's tags of the same name; origin is the truth and tags never move. */
export class TagConflictError extends GitError {
  override readonly name: string = 'TagConflictError';
  override readonly code: string = 'E_GIT_TAG_CONFLICT';
  override readonly exitCode: ExitCode = 3;
  readonly tags: string[];

  constructor(tags: string[], details: GitErrorDetails = {}) {
    super(
      `local tag${tags.length === 1 ? '' : 's'} ${tags.join(', ')} differ${tags.length === 1 ? 's' : ''} from origin; ` +
        `origin is the source of truth: delete the local tag (git tag -d <tag>) and fetch again`,
      details,
    );
    this.tags = tags;
  }
}

/**
 * A command that talks to a remote did not finish within its deadline (a remote that hangs, or
 * sends a byte now and then); git and its helpers were killed. Operational: safe to retry.
 */
export class GitTimeoutError extends GitError {
  override readonly name: string = 'GitTimeoutError';
  override readonly code: string = 'E_GIT_TIMEOUT';
  /** The remote, credentials redacted: `origin (https://***@host/infra.git)` or a clone's URL. */
  readonly remote: string;
  readonly timeoutMs: number;

  constructor(remote: string, timeoutMs: number, details: GitErrorDetails = {}) {
    const seconds = timeoutMs % 1000 === 0 ? String(timeoutMs / 1000) : (timeoutMs / 1000).toFixed(1);
    super(
      `${details.command ?? 'git'} got no complete answer from ${remote} within ${seconds} s and was stopped (the remote hangs or is too slow); ` +
        `retry once it answers, or give it longer with SLIPWAY_GIT_TIMEOUT=<seconds>`,
      details,
    );
    this.remote = remote;
    this.timeoutMs = timeoutMs;
  }
}

/** A setting of the git adapter (SLIPWAY_GIT_TIMEOUT, `remoteTimeoutMs`) is not valid: bad input. */
export class InvalidGitSettingError extends GitError {
  override readonly name: string = 'InvalidGitSettingError';
  override readonly code: string = 'E_GIT_SETTING';
  override readonly exitCode: ExitCode = 2;
}
