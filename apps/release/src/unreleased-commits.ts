import type { CommitInfo, SourceControl } from '@slipway/git';

export interface UnreleasedHistory {
  /** The lower bound of the shared log: the merge base of `head` and every last release; undefined → whole history. */
  base: string | undefined;
  /** Every commit in `base..head`, newest first; then older commits of first releases' folders. */
  log: CommitInfo[];
  /** Whether the commit `sha` of `log` is missing from the last release of stream `key`. */
  isUnreleased(key: string, sha: string): boolean;
  /** How many `git log` passes it took: 1, one more for first releases' folders, one per release not on `head`'s history. */
  passes: number;
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
 * shared log cannot answer.
 */
export async function unreleasedCommits(
  git: SourceControl,
  head: string,
  lastReleases: ReadonlyMap<string, string | null>,
  firstReleasePaths: ReadonlyMap<string, readonly string[]> = new Map(),
): Promise<UnreleasedHistory> {
  const releases = [...new Set([...lastReleases.values()].filter((c): c is string => c !== null))];
  const firstReleases = [...lastReleases].filter(([, release]) => release === null).map(([key]) => key);
  const limitTo = [...new Set(firstReleases.flatMap((key) => firstReleasePaths.get(key) ?? ['']))];
  // A first release of the whole repository (or of a stream with no known folders) reads it all.
  const limited = firstReleases.length > 0 && !limitTo.includes('');
  const base = (firstReleases.length > 0 && !limited) || releases.length === 0 ? undefined : await git.mergeBase(head, ...releases);
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

  return {
    base,
    log,
    passes,
    isUnreleased(key, sha) {
      const i = index.get(sha);
      const test = tests.get(key);
      return i !== undefined && test !== undefined && test(i);
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
