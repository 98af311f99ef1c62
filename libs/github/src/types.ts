import type { GitRef } from './errors.js';

/** GitHub's make_latest: 'false' keeps one service's release from taking "Latest" from another's. */
export type MakeLatest = 'true' | 'false' | 'legacy';

export interface Release {
  id: number;
  tag: string;
  name: string;
  /** '' when GitHub has none. */
  body: string;
  draft: boolean;
  prerelease: boolean;
  /** As GitHub stores it: a sha or a branch name; GitHub ignores it when the tag already exists. */
  targetCommitish: string;
  /** The release page. */
  url: string;
  createdAt: string;
}

export interface ReleaseInput {
  tag: string;
  name: string;
  body: string;
  prerelease: boolean;
  makeLatest: MakeLatest;
  /** Full commit sha the tag names. */
  targetCommitish: string;
}

export interface ReleaseUpdate {
  name?: string;
  body?: string;
  prerelease?: boolean;
  draft?: boolean;
  /** Required: GitHub treats a missing make_latest as "true", so a body-only edit would take "Latest". */
  makeLatest: MakeLatest;
}

export interface EnsureReleaseResult {
  release: Release;
  action: 'created' | 'updated' | 'unchanged';
}

/** The `ReleaseHost` port: what Slipway asks of GitHub. */
export interface ReleaseHost {
  /** `owner/name` */
  readonly repository: string;
  /** The published release for `tag`, undefined when there is none (drafts are not returned, like GitHub). */
  getReleaseByTag(tag: string): Promise<Release | undefined>;
  /** Every release, drafts included, newest first (all pages). */
  listReleases(): Promise<Release[]>;
  createRelease(input: ReleaseInput): Promise<Release>;
  updateRelease(id: number, update: ReleaseUpdate): Promise<Release>;
  /**
   * Makes the release for `input.tag` exist with these contents. Safe to re-run and to race:
   * 'unchanged' when it already matches, 'updated' when only its text or flags differ,
   * ReleaseConflictError when it belongs to another commit.
   */
  ensureRelease(input: ReleaseInput): Promise<EnsureReleaseResult>;
  /** Creates a ref atomically (GitHub's 422 → GitHubRefExistsError with what it points at). */
  createRef(input: { ref: string; sha: string }): Promise<GitRef>;
  /** `refs/tags/x` or `tags/x`; undefined when absent. Annotated tags are peeled to `commit`. */
  getRef(ref: string): Promise<GitRef | undefined>;
  /** Sends a repository_dispatch event (e.g. to a GitOps repo's deploy workflow). */
  repositoryDispatch(input: { eventType: string; clientPayload?: Record<string, unknown> }): Promise<void>;
}
