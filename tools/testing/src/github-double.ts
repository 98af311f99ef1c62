import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An in-memory stand-in for api.github.com with just the endpoints Slipway calls, answering with
 * GitHub's status codes and body shapes (checked against @octokit/openapi-types and GitHub's
 * documented error bodies). Point Octokit at `double.url` through `baseUrl`.
 *
 *   const github = await startGitHubDouble();
 *   onTestFinished(github.close);
 *   github.repo('acme/platform', { origin: repo.origin });   // the repository exists from here on
 *
 * Like GitHub: a repository exists only once a test creates it with `repo()` (others are 404),
 * names are case-insensitive, a commit exists only if it is listed in `commits`, named by a ref,
 * or present in the `origin` git repository, a repository with no commit at all answers its git
 * and release writes with 409 "Git Repository is empty.", and every answer carries x-ratelimit-*.
 */

export interface DoubleRef {
  sha: string;
  type: 'commit' | 'tag';
}

/** An annotated tag object, as `POST /git/tags` stores it. */
export interface DoubleTagObject {
  sha: string;
  tag: string;
  message: string;
  object: { sha: string; type: string };
  tagger: { name: string; email: string; date: string };
}

/** A release in GitHub's JSON shape (components.schemas.release). */
export interface DoubleRelease {
  url: string;
  html_url: string;
  assets_url: string;
  upload_url: string;
  tarball_url: string | null;
  zipball_url: string | null;
  id: number;
  node_id: string;
  tag_name: string;
  target_commitish: string;
  name: string | null;
  body: string | null;
  draft: boolean;
  prerelease: boolean;
  immutable: boolean;
  created_at: string;
  published_at: string | null;
  updated_at: string;
  author: { login: string; id: number; node_id: string; type: string; site_admin: boolean };
  assets: unknown[];
}

export interface DoubleDispatch {
  event_type: string;
  client_payload: Record<string, unknown>;
}

/** A deployment review of a workflow run (components.schemas.environment-approvals). */
export interface DoubleApproval {
  environments: Array<{ name: string }>;
  state: 'approved' | 'rejected' | 'pending';
  user: { login: string };
  comment: string;
}

export interface DoubleRepoState {
  /** `owner/repo` as created (GitHub keeps the case it was created with). */
  readonly fullName: string;
  /** Commit shas that exist, besides those in `origin` and those a ref names. */
  commits: Set<string>;
  /** A git repository on disk whose commits exist here too (a TempRepo's bare origin). */
  origin: string | undefined;
  /** Full ref name (`refs/tags/x`) → what it points at. */
  refs: Map<string, DoubleRef>;
  /** Annotated tag objects by sha. */
  tagObjects: Map<string, DoubleTagObject>;
  releases: DoubleRelease[];
  dispatches: DoubleDispatch[];
  /** The release GitHub would show as "Latest". */
  latestReleaseId: number | undefined;
  /** Environment reviews per workflow run id: what required reviewers decided. */
  runApprovals: Map<number, DoubleApproval[]>;
}

export interface DoubleRequest {
  method: string;
  path: string;
  status: number;
}

export interface GitHubDoubleState {
  /** Keyed by `owner/repo` in lower case; a repository exists once `repo()` created it. */
  repos: Map<string, DoubleRepoState>;
  /** Every request answered, in order. */
  requests: DoubleRequest[];
}

export interface InjectedFailure {
  method?: string;
  /** Matches the request path (no query string). */
  path?: string | RegExp;
  status: number;
  body?: unknown;
  /** How many matching requests fail; default 1. */
  times?: number;
  /** Sent with the failure, e.g. `{ 'retry-after': '2' }`. */
  headers?: Record<string, string>;
  /** Apply the request first, then answer with the failure: a write whose success was lost. */
  afterApply?: boolean;
}

export interface GitHubDoubleOptions {
  /** Tokens accepted; default any non-empty token. Others get 401 Bad credentials. */
  tokens?: readonly string[];
  /** Clock for timestamps; default the real one. */
  now?: () => Date;
}

export interface GitHubDouble {
  /** Base URL for Octokit's `baseUrl`, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly state: GitHubDoubleState;
  /**
   * State of one repository (`owner/repo`, any case), created if new: with no commits it is an
   * empty repository. `init` adds commits, or a git repository whose commits the double knows.
   */
  repo(fullName: string, init?: { commits?: Iterable<string>; origin?: string }): DoubleRepoState;
  /** Make the next matching request(s) fail with this status and body. */
  failNext(failure: InjectedFailure): void;
  close(): Promise<void>;
}

const DOCS = 'https://docs.github.com/rest';

class HttpError {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {}
}

function basicError(status: number, message: string, documentation: string): HttpError {
  return new HttpError(status, { message, documentation_url: documentation, status: String(status) });
}

function validationFailed(documentation: string, errors: Record<string, unknown>[]): HttpError {
  return new HttpError(422, { message: 'Validation Failed', errors, documentation_url: documentation, status: '422' });
}

function invalidRequest(detail: string, documentation: string): HttpError {
  return basicError(422, `Invalid request.\n\n${detail}`, documentation);
}

const SHA = /^[0-9a-f]{40}$/;
const MAKE_LATEST = new Set(['true', 'false', 'legacy']);

export async function startGitHubDouble(options: GitHubDoubleOptions = {}): Promise<GitHubDouble> {
  const now = options.now ?? (() => new Date());
  const state: GitHubDoubleState = { repos: new Map(), requests: [] };
  const failures: InjectedFailure[] = [];
  let nextReleaseId = 1;
  let url = '';

  const repo = (fullName: string, init: { commits?: Iterable<string>; origin?: string } = {}): DoubleRepoState => {
    const key = fullName.toLowerCase();
    let r = state.repos.get(key);
    if (!r) {
      r = { fullName, commits: new Set(), origin: undefined, refs: new Map(), tagObjects: new Map(), releases: [], dispatches: [], latestReleaseId: undefined, runApprovals: new Map() };
      state.repos.set(key, r);
    }
    for (const sha of init.commits ?? []) r.commits.add(sha);
    if (init.origin !== undefined) r.origin = init.origin;
    return r;
  };

  // Synchronous on purpose: a request is handled without an await, so state changes stay atomic.
  const git = (r: DoubleRepoState, args: string[]): string | undefined => {
    if (r.origin === undefined) return undefined;
    try {
      return execFileSync('git', ['-C', r.origin, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return undefined;
    }
  };
  const commitExists = (r: DoubleRepoState, sha: string): boolean =>
    r.commits.has(sha) ||
    [...r.refs.values()].some((ref) => ref.type === 'commit' && ref.sha === sha) ||
    git(r, ['cat-file', '-e', `${sha}^{commit}`]) !== undefined;
  const isEmpty = (r: DoubleRepoState): boolean => r.commits.size === 0 && r.refs.size === 0 && !git(r, ['rev-list', '-n', '1', '--all'])?.trim();
  const emptyRepository = (doc: string) => basicError(409, 'Git Repository is empty.', doc);

  const refJson = (full: string, name: string, ref: DoubleRef) => ({
    ref: name,
    node_id: Buffer.from(`Ref:${full}:${name}`).toString('base64'),
    url: `${url}/repos/${full}/git/${name}`,
    object: { type: ref.type, sha: ref.sha, url: `${url}/repos/${full}/git/${ref.type === 'tag' ? 'tags' : 'commits'}/${ref.sha}` },
  });

  const tagJson = (full: string, t: DoubleTagObject) => ({
    node_id: Buffer.from(`Tag:${t.sha}`).toString('base64'),
    tag: t.tag,
    sha: t.sha,
    url: `${url}/repos/${full}/git/tags/${t.sha}`,
    message: t.message,
    tagger: t.tagger,
    object: { ...t.object, url: `${url}/repos/${full}/git/${t.object.type === 'tag' ? 'tags' : 'commits'}/${t.object.sha}` },
    verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
  });

  // "Latest" per GitHub: drafts and prereleases never are; make_latest=true takes it, false leaves
  // it, legacy picks the newest published full release.
  const applyLatest = (r: DoubleRepoState, release: DoubleRelease, makeLatest: string): void => {
    const eligible = (x: DoubleRelease) => !x.draft && !x.prerelease;
    if (eligible(release) && makeLatest === 'true') r.latestReleaseId = release.id;
    const current = r.releases.find((x) => x.id === r.latestReleaseId);
    if (makeLatest === 'legacy' || (current && !eligible(current))) {
      const candidates = r.releases.filter(eligible);
      r.latestReleaseId = candidates.reduce<DoubleRelease | undefined>((best, x) => (!best || x.id > best.id ? x : best), undefined)?.id;
    }
  };

  /** Publishing a release whose tag does not exist creates it at target_commitish (a sha or a branch). */
  function createTagFor(r: DoubleRepoState, tag: string, target: string, doc: string): void {
    if (r.refs.has(`refs/tags/${tag}`)) return;
    const sha = SHA.test(target) ? target : r.refs.get(`refs/heads/${target}`)?.sha ?? git(r, ['rev-parse', '--verify', '-q', `refs/heads/${target}^{commit}`])?.trim();
    if (!sha || !commitExists(r, sha)) throw validationFailed(doc, [{ resource: 'Release', code: 'invalid', field: 'target_commitish' }]);
    r.refs.set(`refs/tags/${tag}`, { sha, type: 'commit' });
  }

  function handle(method: string, path: string, query: URLSearchParams, body: unknown): { status: number; body?: unknown; headers?: Record<string, string> } {
    const m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
    if (!m) throw basicError(404, 'Not Found', DOCS);
    const r = state.repos.get(`${decodeURIComponent(m[1] ?? '')}/${decodeURIComponent(m[2] ?? '')}`.toLowerCase());
    if (!r) throw basicError(404, 'Not Found', `${DOCS}/repos/repos#get-a-repository`);
    const full = r.fullName;
    const rest = m[3] ?? '';
    const input = (body ?? {}) as Record<string, unknown>;

    if (method === 'GET' && rest === '') {
      const [owner = '', name = ''] = full.split('/');
      return {
        status: 200,
        body: { id: 1, node_id: 'R_double', name, full_name: full, private: false, owner: { login: owner }, default_branch: 'main', size: isEmpty(r) ? 0 : 1 },
      };
    }
    // GitHub answers git data requests of a repository without commits with 409.
    if (rest.startsWith('/git/') && isEmpty(r)) throw emptyRepository(`${DOCS}/git`);

    if (method === 'POST' && rest === '/git/refs') {
      const doc = `${DOCS}/git/refs#create-a-reference`;
      const { ref, sha } = input;
      if (typeof ref !== 'string') throw invalidRequest('"ref" wasn\'t supplied.', doc);
      if (typeof sha !== 'string') throw invalidRequest('"sha" wasn\'t supplied.', doc);
      if (!ref.startsWith('refs/') || ref.split('/').length < 3) throw basicError(422, 'Reference name is not valid', doc);
      if (!SHA.test(sha) || !(commitExists(r, sha) || r.tagObjects.has(sha))) throw basicError(422, 'Object does not exist', doc);
      // Check and set with no await in between: concurrent creates race for real, one wins.
      if (r.refs.has(ref)) throw basicError(422, 'Reference already exists', doc);
      const created: DoubleRef = { sha, type: r.tagObjects.has(sha) ? 'tag' : 'commit' };
      r.refs.set(ref, created);
      return { status: 201, body: refJson(full, ref, created), headers: { location: `${url}/repos/${full}/git/${ref}` } };
    }

    const getRef = /^\/git\/ref\/(.+)$/.exec(rest);
    if (method === 'GET' && getRef) {
      const name = `refs/${decodeURIComponent(getRef[1] ?? '')}`;
      const found = r.refs.get(name);
      if (!found) throw basicError(404, 'Not Found', `${DOCS}/git/refs#get-a-reference`);
      return { status: 200, body: refJson(full, name, found) };
    }

    if (method === 'POST' && rest === '/git/tags') {
      const doc = `${DOCS}/git/tags#create-a-tag-object`;
      const { tag, message, object, type, tagger } = input as {
        tag?: unknown;
        message?: unknown;
        object?: unknown;
        type?: unknown;
        tagger?: { name?: string; email?: string; date?: string };
      };
      if (typeof tag !== 'string' || typeof message !== 'string' || typeof object !== 'string' || typeof type !== 'string') {
        throw invalidRequest('"tag", "message", "object" and "type" are required.', doc);
      }
      if (!SHA.test(object) || !commitExists(r, object)) throw basicError(422, 'Object does not exist', doc);
      const sha = createHash('sha1').update(`tag ${tag}\n${object}\n${message}\n${String(r.tagObjects.size)}`).digest('hex');
      const created: DoubleTagObject = {
        sha,
        tag,
        message,
        object: { sha: object, type },
        tagger: { name: tagger?.name ?? 'Slipway', email: tagger?.email ?? 'slipway@example.com', date: tagger?.date ?? now().toISOString() },
      };
      r.tagObjects.set(sha, created);
      return { status: 201, body: tagJson(full, created) };
    }

    const getTag = /^\/git\/tags\/([0-9a-f]{40})$/.exec(rest);
    if (method === 'GET' && getTag) {
      const found = r.tagObjects.get(getTag[1] ?? '');
      if (!found) throw basicError(404, 'Not Found', `${DOCS}/git/tags#get-a-tag`);
      return { status: 200, body: tagJson(full, found) };
    }

    const byTag = /^\/releases\/tags\/(.+)$/.exec(rest);
    if (method === 'GET' && byTag) {
      const tag = decodeURIComponent(byTag[1] ?? '');
      // Published releases only, like GitHub.
      const found = r.releases.find((x) => x.tag_name === tag && !x.draft);
      if (!found) throw basicError(404, 'Not Found', `${DOCS}/releases/releases#get-a-release-by-tag-name`);
      return { status: 200, body: found };
    }

    if (method === 'GET' && rest === '/releases') {
      const perPage = Math.min(100, Math.max(1, Number(query.get('per_page') ?? 30) || 30));
      const page = Math.max(1, Number(query.get('page') ?? 1) || 1);
      const all = [...r.releases].sort((a, b) => b.id - a.id);
      const lastPage = Math.max(1, Math.ceil(all.length / perPage));
      const link = (p: number, rel: string) => `<${url}/repos/${full}/releases?per_page=${String(perPage)}&page=${String(p)}>; rel="${rel}"`;
      const links = [
        ...(page > 1 ? [link(page - 1, 'prev'), link(1, 'first')] : []),
        ...(page < lastPage ? [link(page + 1, 'next'), link(lastPage, 'last')] : []),
      ];
      return { status: 200, body: all.slice((page - 1) * perPage, page * perPage), headers: links.length > 0 ? { link: links.join(', ') } : {} };
    }

    if (method === 'POST' && rest === '/releases') {
      const doc = `${DOCS}/releases/releases#create-a-release`;
      const tag = input['tag_name'];
      if (typeof tag !== 'string' || tag === '') throw validationFailed(doc, [{ resource: 'Release', code: 'missing_field', field: 'tag_name' }]);
      const makeLatest = String(input['make_latest'] ?? 'true');
      if (!MAKE_LATEST.has(makeLatest)) throw validationFailed(doc, [{ resource: 'Release', code: 'invalid', field: 'make_latest' }]);
      if (isEmpty(r)) throw emptyRepository(doc);
      // Only a published release holds its tag name: any number of drafts may share one.
      if (r.releases.some((x) => x.tag_name === tag && !x.draft)) {
        throw validationFailed(doc, [{ resource: 'Release', code: 'already_exists', field: 'tag_name' }]);
      }
      const draft = input['draft'] === true;
      const target = typeof input['target_commitish'] === 'string' ? input['target_commitish'] : 'main';
      if (SHA.test(target) && !commitExists(r, target)) throw validationFailed(doc, [{ resource: 'Release', code: 'invalid', field: 'target_commitish' }]);
      if (!draft) createTagFor(r, tag, target, doc);
      const id = nextReleaseId++;
      const at = now().toISOString();
      const release: DoubleRelease = {
        url: `${url}/repos/${full}/releases/${String(id)}`,
        html_url: `https://github.com/${full}/releases/tag/${encodeURIComponent(tag)}`,
        assets_url: `${url}/repos/${full}/releases/${String(id)}/assets`,
        upload_url: `https://uploads.github.com/repos/${full}/releases/${String(id)}/assets{?name,label}`,
        tarball_url: `${url}/repos/${full}/tarball/${encodeURIComponent(tag)}`,
        zipball_url: `${url}/repos/${full}/zipball/${encodeURIComponent(tag)}`,
        id,
        node_id: Buffer.from(`Release:${String(id)}`).toString('base64'),
        tag_name: tag,
        target_commitish: target,
        name: typeof input['name'] === 'string' ? input['name'] : null,
        body: typeof input['body'] === 'string' ? input['body'] : null,
        draft,
        prerelease: input['prerelease'] === true,
        immutable: false,
        created_at: at,
        published_at: draft ? null : at,
        updated_at: at,
        author: { login: 'slipway-bot', id: 1, node_id: 'MDQ6VXNlcjE=', type: 'Bot', site_admin: false },
        assets: [],
      };
      r.releases.push(release);
      applyLatest(r, release, makeLatest);
      return { status: 201, body: release, headers: { location: release.url } };
    }

    const byId = /^\/releases\/(\d+)$/.exec(rest);
    if (method === 'PATCH' && byId) {
      const doc = `${DOCS}/releases/releases#update-a-release`;
      const release = r.releases.find((x) => x.id === Number(byId[1]));
      if (!release) throw basicError(404, 'Not Found', doc);
      const makeLatest = String(input['make_latest'] ?? 'true');
      if (!MAKE_LATEST.has(makeLatest)) throw validationFailed(doc, [{ resource: 'Release', code: 'invalid', field: 'make_latest' }]);
      const tag = input['tag_name'];
      if (typeof tag === 'string' && tag !== release.tag_name && !release.draft && r.releases.some((x) => x.tag_name === tag && !x.draft)) {
        throw validationFailed(doc, [{ resource: 'Release', code: 'already_exists', field: 'tag_name' }]);
      }
      if (typeof tag === 'string') release.tag_name = tag;
      if (typeof input['target_commitish'] === 'string') release.target_commitish = input['target_commitish'];
      if (typeof input['name'] === 'string') release.name = input['name'];
      if (typeof input['body'] === 'string') release.body = input['body'];
      if (typeof input['prerelease'] === 'boolean') release.prerelease = input['prerelease'];
      if (input['draft'] === false && release.draft) {
        // Publishing a draft: its tag must be free of other published releases, and is created at target_commitish.
        if (r.releases.some((x) => x !== release && x.tag_name === release.tag_name && !x.draft)) {
          throw validationFailed(doc, [{ resource: 'Release', code: 'already_exists', field: 'tag_name' }]);
        }
        createTagFor(r, release.tag_name, release.target_commitish, doc);
        release.published_at = now().toISOString();
      }
      if (typeof input['draft'] === 'boolean') release.draft = input['draft'];
      release.updated_at = now().toISOString();
      applyLatest(r, release, makeLatest);
      return { status: 200, body: release };
    }

    const approvals = /^\/actions\/runs\/(\d+)\/approvals$/.exec(rest);
    if (method === 'GET' && approvals) {
      return { status: 200, body: r.runApprovals.get(Number(approvals[1])) ?? [] };
    }

    if (method === 'POST' && rest === '/dispatches') {
      const doc = `${DOCS}/repos/repos#create-a-repository-dispatch-event`;
      const eventType = input['event_type'];
      if (typeof eventType !== 'string' || eventType === '') throw invalidRequest('"event_type" wasn\'t supplied.', doc);
      if (eventType.length > 100) throw invalidRequest('event_type is too long (maximum is 100 characters).', doc);
      const payload = input['client_payload'] ?? {};
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
        throw invalidRequest('For \'properties/client_payload\', is not an object.', doc);
      }
      const keys = Object.keys(payload).length;
      if (keys > 10) throw invalidRequest(`No more than 10 properties are allowed; ${String(keys)} were supplied.`, doc);
      // GitHub: "The total size of the JSON payload must be less than 64KB."
      if (Buffer.byteLength(JSON.stringify(payload)) >= 64 * 1024) throw invalidRequest('client_payload is too large: the total size of the JSON payload must be less than 64KB.', doc);
      r.dispatches.push({ event_type: eventType, client_payload: payload as Record<string, unknown> });
      return { status: 204 };
    }

    throw basicError(404, 'Not Found', DOCS);
  }

  const tokenOf = (req: IncomingMessage): string | undefined => {
    const header = req.headers.authorization ?? '';
    return /^(?:token|bearer)\s+(\S+)$/i.exec(header)?.[1];
  };

  // The primary rate limit, as GitHub reports it on every answer (the double never enforces it).
  const rateLimit = { limit: 5000, used: 0, reset: Math.floor(now().getTime() / 1000) + 3600 };
  const send = (res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void => {
    rateLimit.used++;
    const common = {
      'x-github-request-id': `DOUBLE:${String(state.requests.length)}`,
      'x-github-api-version-selected': '2022-11-28',
      'x-ratelimit-limit': String(rateLimit.limit),
      'x-ratelimit-remaining': String(Math.max(0, rateLimit.limit - rateLimit.used)),
      'x-ratelimit-reset': String(rateLimit.reset),
      'x-ratelimit-used': String(rateLimit.used),
      'x-ratelimit-resource': 'core',
    };
    if (body === undefined) {
      res.writeHead(status, { ...common, ...headers });
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { ...common, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      // Everything below runs synchronously once the body is in: state changes are atomic.
      const method = req.method ?? 'GET';
      const parsedUrl = new URL(req.url ?? '/', 'http://double');
      const path = parsedUrl.pathname;
      const answer = (status: number, body?: unknown, headers?: Record<string, string>) => {
        state.requests.push({ method, path, status });
        send(res, status, body, headers);
      };

      const token = tokenOf(req);
      if (token === undefined) return answer(401, { message: 'Requires authentication', documentation_url: DOCS, status: '401' });
      if (options.tokens && !options.tokens.includes(token)) return answer(401, { message: 'Bad credentials', documentation_url: DOCS, status: '401' });

      let body: unknown;
      const raw = Buffer.concat(chunks).toString('utf8');
      if (raw !== '') {
        try {
          body = JSON.parse(raw);
        } catch {
          return answer(400, { message: 'Problems parsing JSON', documentation_url: DOCS, status: '400' });
        }
      }

      const failure = failures.find(
        (f) =>
          (f.method === undefined || f.method.toUpperCase() === method) &&
          (f.path === undefined || (typeof f.path === 'string' ? f.path === path : f.path.test(path))),
      );
      if (failure) {
        failure.times = (failure.times ?? 1) - 1;
        if (failure.times <= 0) failures.splice(failures.indexOf(failure), 1);
        if (failure.afterApply) {
          try {
            handle(method, path, parsedUrl.searchParams, body);
          } catch {
            // The outcome is hidden either way: the client sees only the injected failure.
          }
        }
        return answer(failure.status, failure.body ?? { message: 'Server Error', status: String(failure.status) }, failure.headers);
      }
      try {
        const result = handle(method, path, parsedUrl.searchParams, body);
        return answer(result.status, result.body, result.headers);
      } catch (error) {
        if (error instanceof HttpError) return answer(error.status, error.body);
        return answer(500, { message: error instanceof Error ? error.message : String(error), status: '500' });
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  url = `http://127.0.0.1:${String(port)}`;

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    });
    return closed;
  };

  return {
    url,
    state,
    repo,
    failNext(failure) {
      failures.push({ ...failure });
    },
    close,
  };
}
