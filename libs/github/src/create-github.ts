import { Octokit } from '@octokit/rest';
import { GitHubError, GitHubRefExistsError, ReleaseConflictError } from './errors.js';
import { guardedFetch } from './guarded-fetch.js';
import type { GitRef } from './errors.js';
import { installRetry } from './retry.js';
import type { RetryOptions } from './retry.js';
import { translateError } from './translate-error.js';
import type { Release, ReleaseHost, ReleaseInput } from './types.js';

export interface GitHubOptions {
  /** `owner/name` */
  repository: string;
  token: string;
  /** Default https://api.github.com; tests point it at the GitHub double. */
  baseUrl?: string;
  fetch?: typeof globalThis.fetch;
  userAgent?: string;
  /** Retrying of transient failures within a call (see installRetry); `{ attempts: 1 }` turns it off. */
  retry?: RetryOptions;
  /** Per request attempt, connect to last body byte. Default 60 s. */
  timeoutMs?: number;
  /** Largest response body read into memory. Default 32 MiB (a page of 100 releases with the longest bodies is about 13 MiB). */
  maxResponseBytes?: number;
}

const SHA = /^[0-9a-f]{40}$/;
const noop = (): void => undefined;
// Octokit's default logger writes failed requests to console.error; libraries don't print.
const SILENT = { debug: noop, info: noop, warn: noop, error: noop };

interface ReleaseData {
  id: number;
  tag_name: string;
  name: string | null;
  body?: string | null;
  draft: boolean;
  prerelease: boolean;
  target_commitish: string;
  html_url: string;
  created_at: string;
}

function toRelease(data: ReleaseData): Release {
  return {
    id: data.id,
    tag: data.tag_name,
    name: data.name ?? '',
    body: data.body ?? '',
    draft: data.draft,
    prerelease: data.prerelease,
    targetCommitish: data.target_commitish,
    url: data.html_url,
    createdAt: data.created_at,
  };
}

function apiUrl(value: string): URL {
  try {
    const url = new URL(value);
    if (url.protocol === 'https:' || url.protocol === 'http:') return url;
  } catch {
    // reported below
  }
  throw new GitHubError(`the GitHub API URL must be an http(s) URL (GITHUB_API_URL)`, { code: 'E_GITHUB_CONFIG', exitCode: 2 });
}

export function createGitHub(options: GitHubOptions): ReleaseHost {
  const [owner = '', repo = '', ...extra] = options.repository.split('/');
  if (owner === '' || repo === '' || extra.length > 0) {
    throw new GitHubError(`repository must be "owner/name", got ${JSON.stringify(options.repository)}`, { code: 'E_GITHUB_CONFIG', exitCode: 2 });
  }
  const secrets = [options.token];
  const api = apiUrl(options.baseUrl ?? 'https://api.github.com');
  if (api.username !== '' || api.password !== '') {
    secrets.push(decodeURIComponent(api.password), decodeURIComponent(api.username));
    api.username = '';
    api.password = '';
  }
  const octokit = new Octokit({
    auth: options.token,
    userAgent: options.userAgent ?? 'slipway',
    log: SILENT,
    baseUrl: api.href.replace(/\/+$/, ''),
    request: {
      fetch: guardedFetch({
        fetch: options.fetch ?? globalThis.fetch,
        api,
        maxBytes: options.maxResponseBytes ?? 32 * 1024 * 1024,
        timeoutMs: options.timeoutMs ?? 60_000,
      }),
    },
  });
  installRetry(octokit, options.retry);

  /** Runs one API call; every failure leaves here as a redacted GitHubError. */
  async function call<T>(method: string, path: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw translateError(error, secrets, { method, path: `/repos/${owner}/${repo}${path}` }, options.retry?.now);
    }
  }

  async function orUndefinedOn404<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof GitHubError && error.status === 404) return undefined;
      throw error;
    }
  }

  /**
   * A 404 on a write means the repository is not there for this token, or (release create only)
   * that GitHub hides a refusal: a release whose commit changes .github/workflows needs a token
   * with the `workflow` scope, and GitHub answers 404 without it. Neither fixes itself on a re-run.
   */
  async function explainNotFound(error: unknown, releaseTag?: string): Promise<unknown> {
    if (!(error instanceof GitHubError) || error.status !== 404) return error;
    const details = { status: 404, method: error.method, path: error.path, documentationUrl: error.documentationUrl, requestId: error.requestId, cause: error };
    const visible = await orUndefinedOn404(() => call('GET', '', async () => (await octokit.rest.repos.get({ owner, repo })).data));
    if (!visible) {
      return new GitHubError(
        `GitHub repository ${owner}/${repo} was not found, or the token cannot see it (${error.method} ${error.path} → 404). Check "repository" in services.json and that the token has access to it.`,
        { ...details, code: 'E_GITHUB_REPOSITORY_NOT_FOUND', exitCode: 2 },
      );
    }
    if (releaseTag === undefined) return error;
    return new GitHubError(
      `GitHub answered 404 to creating the release ${releaseTag} although ${owner}/${repo} is readable: the commit changes files under .github/workflows and the token lacks the "workflow" scope. Use a token that has it (classic PAT: "workflow" scope; GitHub App or fine-grained token: "Workflows: write"; the Actions GITHUB_TOKEN cannot get it), then re-run.`,
      { ...details, code: 'E_GITHUB_WORKFLOW_SCOPE', exitCode: 3 },
    );
  }

  async function getRef(ref: string): Promise<GitRef | undefined> {
    const full = ref.startsWith('refs/') ? ref : `refs/${ref}`;
    const data = await orUndefinedOn404(() =>
      call('GET', `/git/ref/${full.slice(5)}`, async () => (await octokit.rest.git.getRef({ owner, repo, ref: full.slice(5) })).data),
    );
    if (!data) return undefined;
    let { type, sha: commit } = data.object;
    // Peel annotated tags (tags of tags are legal, so loop, but not forever).
    for (let depth = 0; type === 'tag' && depth < 5; depth++) {
      const tagSha = commit;
      const tag = await call('GET', `/git/tags/${tagSha}`, async () => (await octokit.rest.git.getTag({ owner, repo, tag_sha: tagSha })).data);
      ({ type, sha: commit } = tag.object);
    }
    return { ref: data.ref, sha: data.object.sha, type: data.object.type, commit: type === 'commit' ? commit : undefined };
  }

  async function getReleaseByTag(tag: string): Promise<Release | undefined> {
    const data = await orUndefinedOn404(() =>
      call('GET', `/releases/tags/${tag}`, async () => (await octokit.rest.repos.getReleaseByTag({ owner, repo, tag })).data),
    );
    return data && toRelease(data);
  }

  async function listReleases(): Promise<Release[]> {
    const all = await call('GET', '/releases', () => octokit.paginate(octokit.rest.repos.listReleases, { owner, repo, per_page: 100 }));
    return all.map(toRelease);
  }

  async function createRelease(input: ReleaseInput, onAmbiguousRetry?: () => void): Promise<Release> {
    const data = await callOrExplain(input.tag, 
      'POST',
      '/releases',
      async () =>
        (
          await octokit.rest.repos.createRelease({
            owner,
            repo,
            tag_name: input.tag,
            target_commitish: input.targetCommitish,
            name: input.name,
            body: input.body,
            draft: false,
            prerelease: input.prerelease,
            make_latest: input.makeLatest,
            ...(onAmbiguousRetry ? { request: { onAmbiguousRetry } } : {}),
          })
        ).data,
    );
    return toRelease(data);
  }

  async function callOrExplain<T>(releaseTag: string | undefined, method: string, path: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await call(method, path, fn);
    } catch (error) {
      throw await explainNotFound(error, releaseTag);
    }
  }

  const updateRelease: ReleaseHost['updateRelease'] = async (id, update) => {
    const data = await call(
      'PATCH',
      `/releases/${String(id)}`,
      async () =>
        (
          await octokit.rest.repos.updateRelease({
            owner,
            repo,
            release_id: id,
            ...(update.name === undefined ? {} : { name: update.name }),
            ...(update.body === undefined ? {} : { body: update.body }),
            ...(update.prerelease === undefined ? {} : { prerelease: update.prerelease }),
            ...(update.draft === undefined ? {} : { draft: update.draft }),
            make_latest: update.makeLatest,
          })
        ).data,
    );
    return toRelease(data);
  };

  /** The commit a release stands for: its tag on GitHub if present (GitHub ignores target_commitish then), else a sha target. */
  async function releaseCommit(release: Release): Promise<string | undefined> {
    const tag = await getRef(`refs/tags/${release.tag}`);
    if (tag) return tag.commit;
    return SHA.test(release.targetCommitish) ? release.targetCommitish : undefined;
  }

  return {
    repository: `${owner}/${repo}`,
    getReleaseByTag,
    listReleases,
    createRelease: (input) => createRelease(input),
    updateRelease,
    getRef,

    async ensureRelease(input) {
      if (!SHA.test(input.targetCommitish)) {
        throw new GitHubError(`ensureRelease needs the full commit sha of ${input.tag}, got ${JSON.stringify(input.targetCommitish)}`, {
          code: 'E_GITHUB_INPUT',
          exitCode: 2,
        });
      }
      let existing = await getReleaseByTag(input.tag);
      // Set when a create that may have been applied was repeated: its 422 may name our own release.
      let maybeOurs = false;
      if (!existing) {
        // GitHub attaches a new release to an existing tag whatever target_commitish says.
        const tag = await getRef(`refs/tags/${input.tag}`);
        if (tag && tag.commit !== input.targetCommitish) throw new ReleaseConflictError(input.tag, input.targetCommitish, tag.commit);
        try {
          return { release: await createRelease(input, () => (maybeOurs = true)), action: 'created' };
        } catch (error) {
          // Lost a race with another job: a published release holds the tag now. Drafts never do
          // (GitHub allows any number per tag), and are never taken over: they are someone's notes.
          const taken = error instanceof GitHubError && error.status === 422 && error.errors.some((e) => e['code'] === 'already_exists');
          if (!taken) throw error;
          existing = (await getReleaseByTag(input.tag)) ?? (await listReleases()).find((r) => r.tag === input.tag && !r.draft);
          if (!existing) throw error;
        }
      }

      const actual = await releaseCommit(existing);
      if (actual !== input.targetCommitish) throw new ReleaseConflictError(input.tag, input.targetCommitish, actual);

      const same = existing.name === input.name && existing.body === input.body && existing.prerelease === input.prerelease && !existing.draft;
      if (same) return { release: existing, action: maybeOurs ? 'created' : 'unchanged' };
      const release = await updateRelease(existing.id, {
        name: input.name,
        body: input.body,
        prerelease: input.prerelease,
        draft: false,
        makeLatest: input.makeLatest,
      });
      return { release, action: 'updated' };
    },

    async createRef({ ref, sha }) {
      let maybeOurs = false;
      const onAmbiguousRetry = () => (maybeOurs = true);
      try {
        const data = await callOrExplain(undefined, 'POST', '/git/refs', async () => (await octokit.rest.git.createRef({ owner, repo, ref, sha, request: { onAmbiguousRetry } })).data);
        return { ref: data.ref, sha: data.object.sha, type: data.object.type, commit: data.object.type === 'commit' ? data.object.sha : undefined };
      } catch (error) {
        if (error instanceof GitHubError && error.status === 422 && /reference already exists/i.test(error.message)) {
          const existing = await getRef(ref);
          // Our earlier attempt may have made it before its answer was lost: same object, so it is ours.
          // (A first-try 422 stays an error even at our sha: then another run made it.)
          if (maybeOurs && existing?.sha === sha) return existing;
          throw new GitHubRefExistsError(ref, existing, {
            status: 422,
            method: error.method,
            path: error.path,
            documentationUrl: error.documentationUrl,
            requestId: error.requestId,
          });
        }
        throw error;
      }
    },

    async repositoryDispatch({ eventType, clientPayload = {} }) {
      await callOrExplain(undefined, 'POST', '/dispatches', () =>
        octokit.rest.repos.createDispatchEvent({ owner, repo, event_type: eventType, client_payload: clientPayload }),
      );
    },
  };
}
