import type { CommitInfo, SourceControl } from '@slipway/git';

export interface UnreleasedHistory {
  /** The lower bound of the shared log: the merge base of `head` and every last release; undefined → whole history. */
  base: string | undefined;
  /** Every commit in `base..head`, newest first; then older commits of first releases' folders. */
  log: CommitInfo[];
  /** Whether the commit `sha` of `log` is missing from the last release of stream `key`. */
  isUnreleased(key: string, sha: string): boolean;
  /**
   * The commits `git log <last release of key>..head -- <paths>` lists, where `touches(files)` says
   * whether a diff touches those paths: git's default history simplification, replayed on the one
   * log. A merge that changes nothing under the paths against one of its parents shows nothing and
   * is followed into that parent only (so "Merge branch 'main' into x" and the merge of a branch
   * that brought the change are not listed, and neither are the commits of a side whose changes
   * the merge did not keep); a merge that differs from all its parents is listed. `undefined` when
   * the replay cannot be sure (see {@link simplifiedHistory}): ask `git log` for that one.
   */
  pathHistory(key: string, touches: (files: readonly string[]) => boolean): string[] | undefined;
  /** How many `git log` passes it took: 1, one more for first releases' folders, one per release not on `head`'s history. */
  passes: number;
  /** No merge in the log: every path history is just the unreleased commits touching the paths, in log order. */
  linear: boolean;
}

/** A log in memory, newest first, for {@link simplifiedHistory}. */
export interface HistoryGraph {
  log: readonly CommitInfo[];
  index: ReadonlyMap<string, number>;
  /** For a merge, the files that differ from its parents after the first (the first's are `files`). */
  otherParentFiles: ReadonlyMap<string, readonly string[][]>;
}

/**
 * What `git log <range> -- <paths>` shows (default mode: `--dense`, history simplified, no
 * `--full-history`), computed on a log already in memory — git's revision.c
 * `try_to_simplify_commit`: walking from `head` through commits `inRange` says are in the range,
 * a commit is TREESAME to a parent when its diff against it does not `touch` the paths. A merge
 * TREESAME to a parent in the range (or to the range's `bottom`, the release) is replaced by that
 * parent (and not shown); otherwise it is
 * shown unless TREESAME to every parent in the range (or, with none in range, to every parent).
 * A non-merge commit is shown when it touches the paths; a root commit when its tree has any.
 * Returned in git's order: newest committer date first, through the simplified parents.
 * `undefined` when a merge in the walk has a parent outside the range other than the bottom's own
 * parents (see the comment in the loop): then only git can say.
 */
export function simplifiedHistory(
  graph: HistoryGraph,
  range: { head: string; bottom: string | null; bottomParents: ReadonlySet<string>; inRange: (i: number) => boolean },
  touches: (files: readonly string[]) => boolean,
): string[] | undefined {
  const { head, bottom, bottomParents, inRange } = range;
  const { log, index, otherParentFiles } = graph;
  const shown: string[] = [];
  const start = index.get(head);
  if (start === undefined || !inRange(start)) return shown;
  const seen = new Uint8Array(log.length);
  seen[start] = 1;
  // git pops the newest commit (committer date) first; equal dates in the order they were queued.
  const queue = new DateQueue((i) => log[i]?.commitTime ?? 0);
  queue.push(start);
  const filesAgainst = (commit: CommitInfo, n: number): readonly string[] => (n === 0 ? commit.files : (otherParentFiles.get(commit.sha)?.[n - 1] ?? []));
  for (let i = queue.pop(); i !== undefined; i = queue.pop()) {
    const commit = log[i] as CommitInfo;
    let follow: Array<number | undefined>;
    let treesame: boolean;
    if (commit.parents.length <= 1) {
      treesame = !touches(commit.files);
      follow = commit.parents.map((p) => index.get(p));
    } else {
      let relevantParents = 0;
      let relevantChange = false;
      let irrelevantChange = false;
      let into: number | undefined;
      for (const [n, parent] of commit.parents.entries()) {
        const p = index.get(parent);
        // git's relevant_commit: in the range, or the range's bottom itself (`<bottom>..head`
        // marks it UNINTERESTING|BOTTOM), so a merge that took the bottom's side is not listed.
        const relevant = (p !== undefined && inRange(p)) || parent === bottom;
        // git marks ancestors of the bottom UNINTERESTING as its date-ordered walk reaches them;
        // only the bottom's own parents are marked from the start. A merge with another such
        // parent may be judged before the mark arrives: the answer depends on commit dates in a
        // way this replay does not follow, so leave it to git.
        if (!relevant && !bottomParents.has(parent)) return undefined;
        if (relevant) relevantParents++;
        if (!touches(filesAgainst(commit, n))) {
          if (relevant) {
            into = p ?? -1;
            break;
          }
          continue;
        }
        if (relevant) relevantChange = true;
        else irrelevantChange = true;
      }
      if (into !== undefined) {
        treesame = true;
        follow = into < 0 ? [] : [into];
      } else {
        treesame = relevantParents > 0 ? !relevantChange : !irrelevantChange;
        follow = commit.parents.map((p) => index.get(p));
      }
    }
    if (!treesame) shown.push(commit.sha);
    for (const p of follow) {
      if (p === undefined || seen[p] === 1 || !inRange(p)) continue;
      seen[p] = 1;
      queue.push(p);
    }
  }
  return shown;
}

/** A max-heap of log indexes by committer date, first-in first-out among equal dates. */
class DateQueue {
  private readonly heap: Array<{ i: number; time: number; seq: number }> = [];
  private seq = 0;
  constructor(private readonly timeOf: (i: number) => number) {}

  push(i: number): void {
    const heap = this.heap;
    heap.push({ i, time: this.timeOf(i), seq: this.seq++ });
    for (let at = heap.length - 1; at > 0; ) {
      const up = (at - 1) >> 1;
      if (!this.before(at, up)) break;
      this.swap(at, up);
      at = up;
    }
  }

  pop(): number | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined) return undefined;
    if (heap.length > 0) {
      heap[0] = last;
      for (let at = 0; ; ) {
        const l = 2 * at + 1;
        const r = l + 1;
        let best = at;
        if (l < heap.length && this.before(l, best)) best = l;
        if (r < heap.length && this.before(r, best)) best = r;
        if (best === at) break;
        this.swap(at, best);
        at = best;
      }
    }
    return top.i;
  }

  private before(a: number, b: number): boolean {
    const x = this.heap[a] as { time: number; seq: number };
    const y = this.heap[b] as { time: number; seq: number };
    return x.time !== y.time ? x.time > y.time : x.seq < y.seq;
  }

  private swap(a: number, b: number): void {
    const heap = this.heap;
    [heap[a], heap[b]] = [heap[b] as (typeof heap)[number], heap[a] as (typeof heap)[number]];
  }
}

/**
 * For many release streams at once, which commits on `head` each stream's last release lacks —
 * with ONE `git log` for all of them rather than one per stream. The log runs from the merge base
 * of `head` and every last release up to `head`; every ancestor of a release that is newer than
 * the merge base lies inside it, so "release R contains commit C" is answered in memory: one pass
 * over the log in topological order carries, from each commit to its parents, the set of
 * releases containing it (a bit per release).
 *
 * A stream without a release (`null`) lacks every commit of `head`. When `firstReleasePaths`
 * names its folders, one more log limited to those folders (`git log head -- <paths>`, run beside
 * the first) finds its commits, so a new service does not make every plan read the whole
 * history; without paths the one log starts at the root. A release that is not on `head`'s
 * history at all (cut from another branch) costs one extra log of its own: it is the one case the
 * shared log cannot answer. `releasesOnHead` says the caller knows every release is on head's history.
 */
export async function unreleasedCommits(
  git: SourceControl,
  head: string,
  lastReleases: ReadonlyMap<string, string | null>,
  firstReleasePaths: ReadonlyMap<string, readonly string[]> = new Map(),
  { releasesOnHead = false }: { releasesOnHead?: boolean } = {},
): Promise<UnreleasedHistory> {
  const releases = [...new Set([...lastReleases.values()].filter((c): c is string => c !== null))];
  const firstReleases = [...lastReleases].filter(([, release]) => release === null).map(([key]) => key);
  const limitTo = [...new Set(firstReleases.flatMap((key) => firstReleasePaths.get(key) ?? ['']))];
  // A first release of the whole repository (or of a stream with no known folders) reads it all.
  const limited = firstReleases.length > 0 && !limitTo.includes('');
  // The merge base of head and one release that is on head's history is that release: no need to ask.
  const base =
    (firstReleases.length > 0 && !limited) || releases.length === 0
      ? undefined
      : releasesOnHead && releases.length === 1
        ? releases[0]
        : await git.mergeBase(head, ...releases);
  const sharedNeeded = base !== head && (releases.length > 0 || !limited);
  const [shared, older] = await Promise.all([
    sharedNeeded ? git.logBetween(base === undefined ? { to: head } : { from: base, to: head }) : [],
    limited ? git.logBetween({ to: head, paths: limitTo }) : [],
  ]);
  let passes = (sharedNeeded ? 1 : 0) + (limited ? 1 : 0);
  // The first-release commits the shared log does not hold are ancestors of its base: every
  // release on head has them. They go last, after their descendants, outside the bit sets.
  const inShared = new Set(shared.map((c) => c.sha));
  const log = [...shared, ...older.filter((c) => !inShared.has(c.sha))];
  const sharedLength = shared.length;

  // A merge's diff against its other parents decides whether git's path-limited log follows it
  // there; one diff-tree for every merge of the shared log.
  const merges = shared.filter((c) => c.parents.length > 1);
  const pairs = merges.flatMap((c) => c.parents.slice(1).map((parent) => ({ commit: c.sha, parent })));
  const otherFiles = pairs.length > 0 ? await git.filesAgainstParents(pairs) : [];
  const otherParentFiles = new Map<string, string[][]>();
  pairs.forEach((pair, i) => {
    const list = otherParentFiles.get(pair.commit) ?? [];
    list.push(otherFiles[i] ?? []);
    otherParentFiles.set(pair.commit, list);
  });

  const index = new Map(log.map((commit, i) => [commit.sha, i]));
  const sharedIndex = new Map(shared.map((commit, i) => [commit.sha, i]));
  const bitOf = new Map<string, number>();
  const tests = new Map<string, (i: number) => boolean>();
  const offHead = new Map<string, Set<string>>();
  for (const [key, release] of lastReleases) {
    if (release === null) {
      tests.set(key, () => true);
    } else if (release === base) {
      tests.set(key, (i) => i < sharedLength);
    } else if (sharedIndex.has(release)) {
      let bit = bitOf.get(release);
      if (bit === undefined) bitOf.set(release, (bit = bitOf.size));
      const b = bit;
      tests.set(key, (i) => i < sharedLength && !containedBy(i, b));
    } else {
      // Not reachable from head: ask git for exactly this range.
      let own = offHead.get(release);
      if (!own) {
        own = new Set((await git.logBetween({ from: release, to: head })).map((c) => c.sha));
        passes += 1;
        offHead.set(release, own);
      }
      const lacking = own;
      tests.set(key, (i) => lacking.has(log[i]?.sha ?? ''));
    }
  }

  const words = Math.ceil(bitOf.size / 32);
  const contains = new Uint32Array(sharedLength * words);
  const containedBy = (i: number, bit: number) => ((contains[i * words + (bit >>> 5)] ?? 0) >>> (bit & 31)) & 1;
  if (words > 0) {
    for (const [release, bit] of bitOf) {
      const i = sharedIndex.get(release) as number;
      contains[i * words + (bit >>> 5)] = (contains[i * words + (bit >>> 5)] ?? 0) | (1 << (bit & 31));
    }
    for (const i of childrenFirst(shared, sharedIndex)) {
      for (const parent of shared[i]?.parents ?? []) {
        const p = sharedIndex.get(parent);
        if (p === undefined) continue;
        for (let w = 0; w < words; w++) contains[p * words + w] = (contains[p * words + w] ?? 0) | (contains[i * words + w] ?? 0);
      }
    }
  }

  const graph: HistoryGraph = { log: shared, index: sharedIndex, otherParentFiles };
  return {
    base,
    log,
    passes,
    linear: log.every((c) => c.parents.length <= 1),
    isUnreleased(key, sha) {
      const i = index.get(sha);
      const test = tests.get(key);
      return i !== undefined && test !== undefined && test(i);
    },
    pathHistory(key, touches) {
      const test = tests.get(key);
      if (test === undefined) return [];
      if (lastReleases.get(key) === null && limited) {
        // A first release read from its folders' own log: git already simplified (and ordered) it.
        return older.filter((c) => touches(c.files)).map((c) => c.sha);
      }
      const bottom = lastReleases.get(key) ?? null;
      const bottomParents = new Set(bottom === null ? [] : (log[index.get(bottom) ?? -1]?.parents ?? []));
      return simplifiedHistory(graph, { head, bottom, bottomParents, inRange: test }, touches);
    },
  };
}

/** Indexes of `log` ordered so every commit comes before its parents (git's date order does not promise that under clock skew). */
function childrenFirst(log: readonly CommitInfo[], index: ReadonlyMap<string, number>): number[] {
  const children = new Uint32Array(log.length);
  for (const commit of log) {
    for (const parent of commit.parents) {
      const p = index.get(parent);
      if (p !== undefined) children[p] = (children[p] ?? 0) + 1;
    }
  }
  const ready: number[] = [];
  children.forEach((count, i) => {
    if (count === 0) ready.push(i);
  });
  const order: number[] = [];
  while (ready.length > 0) {
    const i = ready.pop() as number;
    order.push(i);
    for (const parent of log[i]?.parents ?? []) {
      const p = index.get(parent);
      if (p === undefined) continue;
      children[p] = (children[p] ?? 1) - 1;
      if (children[p] === 0) ready.push(p);
    }
  }
  return order;
}
