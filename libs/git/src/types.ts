import type { RefTarget } from './errors.js';
import type { CommittedTree } from './tree-files.js';
import type { WorkTreeOperations } from './work-tree.js';

/** A tag with the commit it names, from one `for-each-ref` pass. */
export interface TagInfo {
  /** Tag name without `refs/tags/`, e.g. `api/v1.2.3`. */
  name: string;
  /** The object the ref names: the tag object for annotated tags, the commit otherwise. */
  object: string;
  /** The commit the tag names, peeled. */
  commit: string;
  annotated: boolean;
  /** Tagger date (annotated) or commit date (lightweight), ISO 8601 in UTC. */
  date: string;
}

/** A tag on origin, as `ls-remote` shows it. */
export interface RemoteTag {
  /** Without `refs/tags/`. */
  name: string;
  /** The object the ref names (a tag object for annotated tags). */
  object: string;
  /** The commit it names, peeled. */
  commit: string;
}

export interface CommitInfo {
  sha: string;
  parents: string[];
  /** The first line of the message. */
  subject: string;
  /** The message after its first line (and the blank lines after it), trailers included; '' when there is none. */
  body: string;
  /** The raw message (`%B`) without trailing whitespace: what a conventional-commits parser reads. */
  message: string;
  author: { name: string; email: string };
  /** Author date, ISO 8601 as git prints it (with the author's offset). */
  date: string;
  /** Committer date in seconds since the epoch: what git orders its log by. */
  commitTime: number;
  /** Every path the commit changed, even outside `paths` (repository-root relative; a rename is a delete plus an add; merges against their first parent). */
  files: string[];
}

export interface LogRange {
  /** Exclusive lower bound; omitted → the whole history of `to`. */
  from?: string;
  to: string;
  /** Only commits touching these paths (relative to the repository root, taken literally). */
  paths?: readonly string[];
}

export interface CreateTagInput {
  name: string;
  commit: string;
  /** Tag message, kept verbatim (markdown headings are not comments here). */
  message: string;
}

/** The `SourceControl` port: everything Slipway asks of git. */
export interface SourceControl extends WorkTreeOperations {
  readonly cwd: string;
  /** Tags whose names start with one of the prefixes (all tags when none), with their commits; one git call. */
  listTags(prefix?: string | readonly string[]): Promise<TagInfo[]>;
  /** Names of the tags (starting with one of the prefixes; all when none) whose commit is reachable from `ref`: one `for-each-ref --merged`. */
  tagsMergedInto(ref: string, prefix?: string | readonly string[]): Promise<Set<string>>;
  /**
   * Whether this clone is shallow (`git clone --depth`, a CI checkout with `fetch-depth: 1`): its
   * history stops at a graft, so reachability and commit ranges cannot be trusted.
   */
  isShallow(): Promise<boolean>;
  /** For each `{ commit, parent }`, the files that differ between them (one `diff-tree --stdin` for all): a merge against its other parents. */
  filesAgainstParents(pairs: ReadonlyArray<{ commit: string; parent: string }>): Promise<string[][]>;
  /** True when `commit` is `ref` or an ancestor of it; throws for revisions that don't exist. */
  isAncestor(commit: string, ref: string): Promise<boolean>;
  /** The best common ancestor of all `refs` (`merge-base --octopus`, one call); undefined when they share no history. */
  mergeBase(...refs: string[]): Promise<string | undefined>;
  /** Full sha of the commit `ref` names; RefNotFoundError when it names none. */
  resolveCommit(ref: string): Promise<string>;
  /** Committer time of a commit, in seconds since the epoch (for reproducible builds). */
  commitTime(ref: string): Promise<number>;
  /** Writes the files under `path` as they are at `commit` into `dest`; returns `dest/path`. */
  exportTree(input: { commit: string; path: string; dest: string }): Promise<string>;
  /**
   * The folder `path` (relative to `cwd`) as committed at `commit`, read from git's objects: no
   * checkout, archive or conversion (autocrlf, export-subst, filters) touches the bytes. It is the
   * layer builder's `LayerTree`. RefNotFoundError for an unknown commit.
   */
  committedTree(input: { commit: string; path: string }): Promise<CommittedTree>;
  /** Commits in `from..to` (newest first), optionally only those touching `paths`, with changed files. */
  logBetween(range: LogRange): Promise<CommitInfo[]>;
  /** Files changed on `head` since it diverged from `base` (`base...head`, like `nx affected`). */
  changedFiles(base: string, head: string): Promise<string[]>;
  /** Creates an annotated tag locally; RefExistsError when the name is taken. Returns the tag object sha. */
  createTag(input: CreateTagInput): Promise<string>;
  /** Pushes one local tag to origin. 'unchanged' when origin already has exactly it; RefExistsError when origin's differs. */
  pushTag(name: string): Promise<'created' | 'unchanged'>;
  /**
   * Deletes a local tag, only while it still points at `object` (the sha createTag returned), so a
   * tag someone else made meanwhile is never removed. Returns false when it pointed elsewhere or was gone.
   */
  deleteTag(name: string, object: string): Promise<boolean>;
  /** Fetches every tag from origin; never moves a local tag (TagConflictError instead). */
  fetchTags(): Promise<void>;
  /** Fetches origin's branch into `refs/remotes/origin/<branch>` and returns its commit. */
  fetchBranch(branch: string): Promise<string>;
  /**
   * `fetchBranch` and `fetchTags` in one fetch (one connection, one negotiation): the branch into
   * `refs/remotes/origin/<branch>`, every tag, no local tag moved (TagConflictError). Returns the branch's commit.
   */
  fetchBranchAndTags(branch: string): Promise<string>;
  /**
   * Starts, in the background, the lookup every command that talks to origin needs first (the
   * user's ssh command, to add a connect timeout to), so a later `remoteRef` or fetch starts at
   * once. For a caller that will likely ask origin after local work; never fails.
   */
  prepareRemote(): void;
  /** What `ref` points at on origin (object and peeled commit), undefined when absent. */
  remoteRef(ref: string): Promise<RefTarget | undefined>;
  /** `remoteRef` for many refs in one `ls-remote` (one connection): the refs origin has, by name. */
  remoteRefs(refs: readonly string[]): Promise<Map<string, RefTarget>>;
  /** Origin's tags whose names start with `prefix` (one `ls-remote`), peeled to their commits. */
  listRemoteTags(prefix: string): Promise<RemoteTag[]>;
  /** A file's text as it is at `commit` (path relative to `cwd`); undefined when the commit has no such file. */
  readFileAt(input: { commit: string; path: string }): Promise<string | undefined>;
  /**
   * Many files at once (one `cat-file --batch`): each `path` is from the top of the repository; an
   * entry is undefined when that commit has no file there (or only a folder or a submodule).
   */
  readFilesAt(requests: readonly { commit: string; path: string }[]): Promise<(string | undefined)[]>;
  /** Creates `ref` (full name, e.g. `refs/tags/1.2.0-staging.3`) on origin at `commit`; RefExistsError when it exists, even at the same commit. */
  pushNewRef(ref: string, commit: string): Promise<void>;
  /**
   * Pushes `source` (default: the local branch of the same name; `HEAD` from a detached work tree)
   * to origin's `branch`, never forced; NonFastForwardError when origin moved on.
   */
  push(branch: string, source?: string): Promise<'pushed' | 'unchanged'>;
}
