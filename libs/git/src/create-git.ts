import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GitError, InvalidRefError, NonFastForwardError, RefExistsError, RefNotFoundError, TagConflictError } from './errors.js';
import type { RefTarget } from './errors.js';
import { TAG_FORMAT, parseTagLines, tagPatterns, toTagInfo } from './list-tags.js';
import { LOG_FORMAT, parseLog } from './parse-log.js';
import { looksLikeExists, looksLikeNonFastForward, parsePushPorcelain } from './parse-push.js';
import type { PushOutcome } from './parse-push.js';
import { asRefNotFound, checkRef, createBatchRunner, createRunner } from './run-git.js';
import { committedTree } from './tree-files.js';
import type { RemoteTag, SourceControl, TagInfo } from './types.js';
import { workTreeOperations } from './work-tree.js';

export interface GitOptions {
  /** Any folder inside the work tree. */
  cwd: string;
  /** Extra environment for git (merged over process.env). */
  env?: Record<string, string | undefined>;
  /** Strings to scrub from errors besides URL credentials (e.g. a token passed through `env`). */
  secrets?: readonly string[];
  /**
   * Total deadline of one command that talks to origin (fetch, push, ls-remote): past it git and
   * its helpers are killed and the call fails with GitTimeoutError (exit 1). Default:
   * SLIPWAY_GIT_TIMEOUT (seconds) from the environment, else 10 minutes. Local commands have none.
   */
  remoteTimeoutMs?: number | undefined;
}

const REMOTE = 'origin';
// A user's push.followTags would push every annotated tag on the pushed history; Slipway pushes
// exactly one ref per push (GitHub drops tag push events when more than three arrive at once).
const PUSH = ['push', '--porcelain', '--no-follow-tags', REMOTE] as const;

export function createGit(options: GitOptions): SourceControl {
  const run = createRunner(options);
  const runBatch = createBatchRunner(options);

  async function resolveCommit(ref: string): Promise<string> {
    checkRef(ref);
    const args = ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`];
    let result;
    try {
      result = await run(args, { okStatus: [0, 1] });
    } catch (error) {
      throw asRefNotFound(error, ref);
    }
    // --quiet: a missing revision is exit 1 with nothing on stderr.
    if (result.status === 1) throw new RefNotFoundError(ref, { command: `git ${args.join(' ')}`, status: 1 });
    return result.stdout.trim();
  }

  async function fetchBranch(branch: string): Promise<string> {
    checkRef(branch, 'branch');
    const tracking = `refs/remotes/${REMOTE}/${branch}`;
    try {
      await run(['fetch', '--no-tags', '--no-write-fetch-head', REMOTE, `+refs/heads/${branch}:${tracking}`]);
    } catch (error) {
      throw asRefNotFound(error, `${REMOTE}/${branch}`);
    }
    return resolveCommit(tracking);
  }

  /** A tag fetch that exited 1: tags that would have moved are a TagConflictError, anything else a GitError. */
  function tagFetchError(stderr: string, status: number, what: string): GitError {
    // Without "+" git refuses to move a local tag that differs from origin's; moving it silently
    // would hide that someone tagged locally, so surface it.
    const clobbered = [...stderr.matchAll(/\[rejected\]\s+(\S+)\s+->\s+\S+\s+\(would clobber existing tag\)/g)].map((m) => m[1] ?? '');
    if (clobbered.length > 0) return new TagConflictError(clobbered, { command: 'git fetch origin refs/tags/*:refs/tags/*', stderr, status });
    return new GitError(`git fetch of ${what} from ${REMOTE} failed: ${stderr.trim()}`, { command: 'git fetch', stderr, status });
  }

  async function fetchBranchAndTags(branch: string): Promise<string> {
    checkRef(branch, 'branch');
    const tracking = `refs/remotes/${REMOTE}/${branch}`;
    let result;
    try {
      // One negotiation with origin instead of two. --no-tags only stops git following tags on
      // its own; the explicit refspec fetches every tag, never moving one (no "+").
      result = await run(['fetch', '--no-tags', '--no-write-fetch-head', REMOTE, `+refs/heads/${branch}:${tracking}`, 'refs/tags/*:refs/tags/*'], { okStatus: [0, 1] });
    } catch (error) {
      throw asRefNotFound(error, `${REMOTE}/${branch}`);
    }
    if (result.status !== 0) throw tagFetchError(result.stderr, result.status, `${branch} and the tags`);
    return resolveCommit(tracking);
  }

  async function remoteRefs(refs: readonly string[]): Promise<Map<string, RefTarget>> {
    const found = new Map<string, RefTarget>();
    if (refs.length === 0) return found;
    for (const ref of refs) checkRef(ref);
    const { stdout } = await run(['ls-remote', REMOTE, ...refs.flatMap((ref) => [ref, `${ref}^{}`])]);
    const wanted = new Set(refs);
    const peeled = new Map<string, string>();
    for (const line of stdout.split('\n')) {
      const [sha = '', name = ''] = line.split('\t');
      // ls-remote matches patterns by their tail; keep the exact refs only.
      if (wanted.has(name)) found.set(name, { object: sha, commit: sha });
      else if (name.endsWith('^{}') && wanted.has(name.slice(0, -3))) peeled.set(name.slice(0, -3), sha);
    }
    for (const [ref, commit] of peeled) {
      const target = found.get(ref);
      if (target) target.commit = commit;
    }
    return found;
  }

  async function remoteRef(ref: string): Promise<RefTarget | undefined> {
    return (await remoteRefs([ref])).get(ref);
  }

  async function localTag(name: string): Promise<RefTarget | undefined> {
    const peel = async (rev: string): Promise<string | undefined> => {
      const { stdout, status } = await run(['rev-parse', '--verify', '--quiet', rev], { okStatus: [0, 1] });
      return status === 0 ? stdout.trim() : undefined;
    };
    const object = await peel(`refs/tags/${name}`);
    const commit = object === undefined ? undefined : await peel(`refs/tags/${name}^{commit}`);
    return object === undefined ? undefined : { object, commit: commit ?? object };
  }

  /** After a rejected push: if the ref now exists on origin it was a lost race or a re-push. */
  async function existsError(ref: string, outcome: PushOutcome | undefined, stderr: string, command: string): Promise<never> {
    const existing = await remoteRef(ref);
    if (existing) throw new RefExistsError(ref, existing, { command, stderr });
    throw new GitError(`push of ${ref} rejected: ${outcome?.summary || stderr.trim() || 'no reason given'}`, { command, stderr, status: 1 });
  }

  return {
    cwd: options.cwd,
    ...workTreeOperations(run),

    async listTags(prefix = []) {
      const prefixes = typeof prefix === 'string' ? [prefix] : [...prefix];
      const { stdout } = await run(['for-each-ref', `--format=${TAG_FORMAT}`, ...tagPatterns(prefixes)]);
      const raw = parseTagLines(stdout, prefixes);
      const tags: TagInfo[] = [];
      const deeper: typeof raw = [];
      for (const r of raw) {
        const info = toTagInfo(r);
        if (info) tags.push(info);
        else if (r.objectType === 'tag' && r.peeledType === 'tag') deeper.push(r);
        // Tags of trees or blobs name no commit: they cannot be releases.
      }
      if (deeper.length > 0) {
        // Tags of tags are rare; peel them fully in one more call.
        const { stdout: peeled, status } = await run(
          ['rev-parse', '--verify', '--quiet', ...deeper.map((r) => `refs/tags/${r.name}^{commit}`)],
          { okStatus: [0, 1] },
        );
        const shas = peeled.split('\n');
        if (status === 0) deeper.forEach((r, i) => tags.push({ name: r.name, object: r.object, commit: shas[i] ?? '', annotated: true, date: r.date }));
      }
      return tags;
    },

    async tagsMergedInto(ref, prefix = []) {
      checkRef(ref);
      const prefixes = typeof prefix === 'string' ? [prefix] : [...prefix];
      try {
        const { stdout } = await run(['for-each-ref', `--merged=${ref}`, '--format=%(refname)', ...tagPatterns(prefixes)]);
        const names = stdout.split('\n').filter((line) => line !== '').map((line) => line.slice('refs/tags/'.length));
        return new Set(prefixes.length === 0 ? names : names.filter((name) => prefixes.some((p) => name.startsWith(p))));
      } catch (error) {
        throw asRefNotFound(error, ref);
      }
    },

    async isShallow() {
      const { stdout } = await run(['rev-parse', '--is-shallow-repository']);
      return stdout.trim() === 'true';
    },

    async filesAgainstParents(pairs) {
      if (pairs.length === 0) return [];
      for (const { commit, parent } of pairs) {
        checkRef(commit);
        checkRef(parent);
      }
      // --always prints the commit line even for an empty diff, so every pair has its entry.
      const { stdout } = await run(['diff-tree', '--stdin', '-r', '--always', '--name-only', '-z', '--no-renames', '--no-ext-diff'], {
        input: pairs.map((p) => `${p.commit} ${p.parent}\n`).join(''),
      });
      const fields = stdout.split('\0');
      const out: string[][] = [];
      let i = 0;
      for (const [k, { commit }] of pairs.entries()) {
        if (fields[i] !== commit) throw new GitError(`git diff-tree --stdin answered out of order at ${commit}`, { command: 'git diff-tree --stdin' });
        i++;
        // Files run up to the next pair's header (the same merge again when it has several other parents).
        const next = pairs[k + 1]?.commit;
        const files: string[] = [];
        while (i < fields.length && fields[i] !== '' && fields[i] !== next) files.push(fields[i++] as string);
        out.push(files);
      }
      return out;
    },

    async isAncestor(commit, ref) {
      checkRef(commit);
      checkRef(ref);
      try {
        const { status } = await run(['merge-base', '--is-ancestor', commit, ref], { okStatus: [0, 1] });
        return status === 0;
      } catch (error) {
        throw asRefNotFound(error, `${commit} or ${ref}`);
      }
    },

    async mergeBase(...refs) {
      if (refs.length === 0) throw new InvalidRefError('', 'mergeBase needs at least one ref');
      for (const ref of refs) checkRef(ref);
      try {
        // --octopus with one ref answers the ref itself; exit 1 with no output means no common ancestor.
        const { stdout, status } = await run(['merge-base', '--octopus', ...refs], { okStatus: [0, 1] });
        return status === 0 ? stdout.trim() : undefined;
      } catch (error) {
        throw asRefNotFound(error, refs.join(' or '));
      }
    },

    resolveCommit,
    async commitTime(ref) {
      const commit = await resolveCommit(ref);
      const { stdout } = await run(['show', '-s', '--format=%ct', commit]);
      return Number(stdout.trim());
    },
    async exportTree({ commit, path, dest }) {
      // Builds read the files of the commit being released, never a dirty working tree.
      const sha = await resolveCommit(commit);
      await mkdir(dest, { recursive: true });
      const archive = join(dest, '.slipway-export.tar');
      try {
        await run(['archive', '--format=tar', `--output=${archive}`, sha, '--', path]);
        await promisify(execFile)('tar', ['-xf', archive, '-C', dest]);
      } catch (error) {
        if (error instanceof GitError) throw error;
        throw new GitError(`could not unpack ${path} at ${sha} into ${dest}: ${(error as Error).message}`, { command: `tar -xf ${archive}`, cause: error });
      } finally {
        await rm(archive, { force: true });
      }
      return join(dest, path);
    },

    async committedTree({ commit, path }) {
      return committedTree({ run, cwd: options.cwd, env: options.env ?? {} }, await resolveCommit(commit), path);
    },

    async logBetween({ from, to, paths = [] }) {
      checkRef(to);
      if (from !== undefined) checkRef(from);
      const range = from === undefined ? to : `${from}..${to}`;
      const details = [
        'log',
        '-z',
        '--no-color',
        '--no-show-signature',
        '--no-renames',
        '--no-relative',
        // A merge lists its files against its first parent (the change it brought to the branch).
        '--diff-merges=first-parent',
        '--name-only',
        // Paths choose the commits; each commit still lists all of its files.
        '--full-diff',
        `--format=${LOG_FORMAT}`,
      ];
      try {
        if (paths.length === 0) return parseLog((await run([...details, range, '--'])).stdout);
        // Any --diff-merges other than the combined ones turns git's history simplification off
        // (diff-merges.c set_separate), so a path-limited log with merge files would list every
        // merge --full-history lists. Ask which commits `git log <range> -- <paths>` shows first,
        // then for their details by name.
        const { stdout: listed } = await run(['log', '--format=%H', range, '--', ...paths.map((p) => `:(top,literal)${p}`)]);
        const shas = listed.split('\n').filter((line) => line !== '');
        if (shas.length === 0) return [];
        return parseLog((await run([...details, '--no-walk=unsorted', '--stdin'], { input: `${shas.join('\n')}\n` })).stdout);
      } catch (error) {
        throw asRefNotFound(error, range);
      }
    },

    async changedFiles(base, head) {
      checkRef(base);
      checkRef(head);
      try {
        const { stdout } = await run(['diff', '--name-only', '-z', '--no-renames', '--no-relative', '--no-ext-diff', `${base}...${head}`, '--']);
        return stdout.split('\0').filter((f) => f !== '');
      } catch (error) {
        throw asRefNotFound(error, `${base}...${head}`);
      }
    },

    async createTag({ name, commit, message }) {
      checkRef(name, 'tag name');
      checkRef(commit);
      const existing = await localTag(name);
      if (existing) throw new RefExistsError(`refs/tags/${name}`, existing);
      try {
        await run(['tag', '--annotate', '--no-sign', '--cleanup=verbatim', '-m', message, name, commit]);
      } catch (error) {
        if (error instanceof GitError && /already exists/.test(error.stderr)) {
          throw new RefExistsError(`refs/tags/${name}`, await localTag(name), error);
        }
        if (error instanceof GitError && /not a valid tag name/.test(error.stderr)) {
          throw new InvalidRefError(name, 'not a valid tag name (see git check-ref-format)', error);
        }
        throw asRefNotFound(error, commit);
      }
      const { stdout } = await run(['rev-parse', `refs/tags/${name}`]);
      return stdout.trim();
    },

    async deleteTag(name, object) {
      checkRef(name, 'tag name');
      checkRef(object);
      const { status } = await run(['update-ref', '-d', `refs/tags/${name}`, object], { okStatus: [0, 1, 128] });
      return status === 0;
    },

    async pushTag(name) {
      checkRef(name, 'tag name');
      const ref = `refs/tags/${name}`;
      const { stdout, stderr, status } = await run([...PUSH, `${ref}:${ref}`], { okStatus: [0, 1] });
      const outcome = parsePushPorcelain(stdout, ref);
      if (status === 0 && outcome?.flag === '=') return 'unchanged';
      if (status === 0) return 'created';
      const command = `git ${PUSH.join(' ')} ${ref}:${ref}`;
      if (outcome?.flag === '!' && looksLikeExists(outcome, stderr)) return existsError(ref, outcome, stderr, command);
      throw new GitError(`push of ${ref} failed: ${outcome?.summary || stderr.trim()}`, { command, stderr, status });
    },

    async fetchTags() {
      const { stderr, status } = await run(['fetch', '--no-write-fetch-head', REMOTE, 'refs/tags/*:refs/tags/*'], { okStatus: [0, 1] });
      if (status === 0) return;
      throw tagFetchError(stderr, status, 'tags');
    },

    fetchBranch,

    fetchBranchAndTags,

    prepareRemote: run.prepareRemote,

    remoteRef,

    remoteRefs,

    async listRemoteTags(prefix) {
      if (prefix !== '') checkRef(prefix, 'tag prefix');
      const { stdout } = await run(['ls-remote', '--tags', REMOTE, `refs/tags/${prefix}*`]);
      const objects = new Map<string, string>();
      const peeled = new Map<string, string>();
      for (const line of stdout.split('\n')) {
        const [sha = '', ref = ''] = line.split('\t');
        // ls-remote matches patterns by their tail; keep refs/tags/<prefix>… only.
        if (!ref.startsWith(`refs/tags/${prefix}`)) continue;
        if (ref.endsWith('^{}')) peeled.set(ref.slice('refs/tags/'.length, -3), sha);
        else objects.set(ref.slice('refs/tags/'.length), sha);
      }
      return [...objects].map(([name, object]): RemoteTag => ({ name, object, commit: peeled.get(name) ?? object }));
    },

    async readFileAt({ commit, path }) {
      checkRef(path, 'path');
      const sha = await resolveCommit(commit);
      // "./" makes the path relative to cwd (the workspace root), as exportTree's pathspec is.
      const { stdout, stderr, status } = await run(['cat-file', 'blob', `${sha}:./${path}`], { okStatus: [0, 128] });
      if (status === 0) return stdout;
      // "exists on disk, but not in": an untracked file at the path must not turn "absent" into a failure.
      if (/does not exist|exists on disk, but not in|not a valid object name/i.test(stderr)) return undefined;
      throw new GitError(`git cat-file blob ${sha}:./${path} failed: ${stderr.trim()}`, { command: `git cat-file blob ${sha}:./${path}`, status, stderr });
    },

    async readFilesAt(requests) {
      if (requests.length === 0) return [];
      const input = requests.map(({ commit, path }) => `${checkRef(commit)}:${checkRef(path, 'path')}\n`).join('');
      if (requests.some(({ commit, path }) => /\s/.test(commit) || path.includes('\n'))) {
        throw new InvalidRefError(input, 'readFilesAt takes one line per commit:path');
      }
      const bytes = await runBatch(['cat-file', '--batch'], input);
      return parseBatch(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), requests.length);
    },

    async pushNewRef(ref, commit) {
      checkRef(ref);
      checkRef(commit);
      if (!ref.startsWith('refs/')) throw new InvalidRefError(ref, 'pushNewRef needs a full ref name (refs/…)');
      const local = await run(['rev-parse', '--verify', '--quiet', `${commit}^{object}`], { okStatus: [0, 1] });
      if (local.status === 1) throw new RefNotFoundError(commit);
      // An empty lease means "must not exist": the server checks it inside its ref transaction,
      // so of several concurrent pushes exactly one creates the ref, branches included.
      const args = [...PUSH, `--force-with-lease=${ref}:`, `${commit}:${ref}`];
      const { stdout, stderr, status } = await run(args, { okStatus: [0, 1] });
      const outcome = parsePushPorcelain(stdout, ref);
      const command = `git ${args.join(' ')}`;
      if (status === 0 && outcome?.flag === '=') throw new RefExistsError(ref, (await remoteRef(ref)) ?? { object: commit, commit }, { command });
      if (status === 0) return;
      if (outcome?.flag === '!' && looksLikeExists(outcome, stderr)) return existsError(ref, outcome, stderr, command);
      throw asRefNotFound(new GitError(`push of ${ref} failed: ${outcome?.summary || stderr.trim()}`, { command, stderr, status }), commit);
    },

    async push(branch, source) {
      checkRef(branch, 'branch');
      const ref = `refs/heads/${branch}`;
      const from = checkRef(source ?? ref, 'source');
      const { stdout, stderr, status } = await run([...PUSH, `${from}:${ref}`], { okStatus: [0, 1] });
      const outcome = parsePushPorcelain(stdout, ref);
      if (status === 0) return outcome?.flag === '=' ? 'unchanged' : 'pushed';
      const command = `git ${PUSH.join(' ')} ${from}:${ref}`;
      if (outcome?.flag === '!' && looksLikeNonFastForward(outcome, stderr)) {
        throw new NonFastForwardError(ref, outcome.reason || 'rejected', { command, stderr, status });
      }
      throw new GitError(`push of ${ref} failed: ${outcome?.summary || stderr.trim()}`, { command, stderr, status });
    },
  };
}

/** `git cat-file --batch` answers: `<oid> <type> <size>\n<bytes>\n`, or `<request> missing\n`. */
function parseBatch(stdout: Buffer, count: number): (string | undefined)[] {
  const files: (string | undefined)[] = [];
  let at = 0;
  while (files.length < count) {
    const end = stdout.indexOf(0x0a, at);
    if (end < 0) throw new GitError('git cat-file --batch answered fewer objects than asked for', { command: 'git cat-file --batch' });
    const header = stdout.subarray(at, end).toString('utf8');
    at = end + 1;
    const found = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
    if (!found) {
      // missing, ambiguous, or a path below a symlink or a file: no such file at that commit.
      files.push(undefined);
      continue;
    }
    const size = Number(found[2]);
    files.push(found[1] === 'blob' ? stdout.subarray(at, at + size).toString('utf8') : undefined);
    at += size + 1;
  }
  return files;
}
