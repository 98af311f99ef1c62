import { readBoundedBody } from '@slipway/redact';
import { GitHubError } from './errors.js';

export interface GuardOptions {
  fetch: typeof globalThis.fetch;
  /** The configured API origin: the only one the token is sent to. */
  api: URL;
  /** Largest response body read; GitHub's JSON pages are far smaller. */
  maxBytes: number;
  /** Whole exchange — connect, headers, body — per attempt. */
  timeoutMs: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/** A request slipway refuses to make: to another origin, or an answer too large to hold. Never retried. */
export class GitHubRefusedError extends GitHubError {
  override readonly name = 'GitHubRefusedError';
}

/**
 * The fetch Octokit gets. Octokit follows `Link: rel="next"` and redirects wherever they point, with
 * the token; this one refuses a request to any origin but the configured API's (a hostile or
 * misconfigured `Link`), follows redirects itself — to another origin without `Authorization`,
 * never from https to http — caps the body it reads into memory, and bounds each exchange in time.
 */
export function guardedFetch(options: GuardOptions): typeof globalThis.fetch {
  const { api, maxBytes, timeoutMs } = options;
  const refuse = (message: string) => new GitHubRefusedError(message, { code: 'E_GITHUB_UNSAFE_URL' });

  return async (input, init) => {
    let url = new URL(input instanceof Request ? input.url : String(input));
    if (url.origin !== api.origin) {
      throw refuse(`refusing a GitHub request to ${url.origin}${url.pathname}: the configured API is ${api.origin} (a Link or URL from GitHub named another origin)`);
    }
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    let method = (init?.method ?? 'GET').toUpperCase();
    let body = init?.body;
    const headers = new Headers(init?.headers);
    try {
      for (let hop = 0; ; hop++) {
        const response = await options.fetch(url, { ...init, method, headers, body, redirect: 'manual', signal });
        const location = response.headers.get('location');
        if (!REDIRECTS.has(response.status) || location === null) return await bounded(response, url, method, maxBytes);
        await response.body?.cancel();
        if (hop >= MAX_REDIRECTS) throw refuse(`GitHub ${method} ${url.pathname}: more than ${MAX_REDIRECTS} redirects`);
        const next = new URL(location, url);
        if (next.protocol !== 'https:' && next.protocol !== 'http:') throw refuse(`refusing a GitHub redirect to ${next.protocol} for ${url.pathname}`);
        if (url.protocol === 'https:' && next.protocol === 'http:') throw refuse(`refusing a GitHub redirect from https to plain http (${next.host}) for ${url.pathname}`);
        // The token was issued for the API origin; a redirect elsewhere (release assets on a CDN) goes without it.
        if (next.origin !== api.origin) headers.delete('authorization');
        if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
        }
        url = next;
      }
    } catch (error) {
      if (timeout.aborted && !(error instanceof GitHubError)) {
        throw new GitHubError(`GitHub ${method} ${url.pathname}: no complete answer within ${timeoutMs / 1000} s`, { code: 'E_GITHUB_NETWORK' });
      }
      throw error;
    }
  };

  async function bounded(response: Response, url: URL, method: string, limit: number): Promise<Response> {
    const tooLarge = () => new GitHubRefusedError(`GitHub ${method} ${url.pathname}: answer larger than ${limit} bytes`, { code: 'E_GITHUB_TOO_LARGE' });
    if (response.body === null) return response;
    const bytes = await readBoundedBody(response, { maxBytes: limit, tooLarge });
    const nullBody = response.status === 204 || response.status === 304 || method === 'HEAD';
    const copy = new Response(nullBody ? null : bytes, { status: response.status, statusText: response.statusText, headers: response.headers });
    Object.defineProperty(copy, 'url', { value: url.href });
    return copy;
  }
}
