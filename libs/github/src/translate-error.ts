import { GitHubError } from './errors.js';
import type { ExitCode } from './errors.js';
import { redact } from '@slipway/redact';
import { HEADERLESS_RATE_LIMIT_WAIT_MS } from './retry.js';

interface OctokitLikeError {
  status: number;
  message: string;
  request?: { method?: string; url?: string };
  response?: { status: number; data?: unknown; headers?: Record<string, string | undefined> };
  cause?: unknown;
}

function isOctokitError(error: unknown): error is OctokitLikeError {
  return error instanceof Error && typeof (error as Partial<OctokitLikeError>).status === 'number' && 'request' in error;
}

function classify(status: number | undefined, headers: Record<string, string | undefined>, message: string): { code: string; exitCode: ExitCode } {
  if (status === undefined) return { code: 'E_GITHUB_NETWORK', exitCode: 1 };
  if (status === 429 || (status === 403 && (headers['x-ratelimit-remaining'] === '0' || headers['retry-after'] !== undefined || /rate limit/i.test(message)))) {
    return { code: 'E_GITHUB_RATE_LIMIT', exitCode: 1 };
  }
  if (status === 401 || status === 403) return { code: 'E_GITHUB_AUTH', exitCode: 1 };
  // Never fixes itself: nothing can be tagged or released until a commit is pushed.
  if (status === 409 && /repository is empty/i.test(message)) return { code: 'E_GITHUB_EMPTY_REPOSITORY', exitCode: 2 };
  if (status === 404) return { code: 'E_GITHUB_NOT_FOUND', exitCode: 1 };
  if (status === 400 || status === 422) return { code: 'E_GITHUB_VALIDATION', exitCode: 2 };
  if (status >= 500) return { code: 'E_GITHUB_SERVER', exitCode: 1 };
  return { code: 'E_GITHUB', exitCode: 1 };
}

/**
 * Octokit's RequestError keeps the request options (headers, fetch, body) and its cause; none of
 * that crosses this edge. What is kept is redacted with the token as a literal secret too.
 */
export function translateError(
  error: unknown,
  secrets: readonly string[],
  fallback: { method: string; path: string },
  now: () => number = Date.now,
): GitHubError {
  if (error instanceof GitHubError) return error;
  // Refused or timed out by the guarded fetch; Octokit wraps it as a RequestError's cause.
  if (error instanceof Error && error.cause instanceof GitHubError) return error.cause;
  const clean = (s: string) => redact(s, secrets);
  if (!isOctokitError(error)) {
    const message = error instanceof Error ? error.message : String(error);
    return new GitHubError(clean(`GitHub ${fallback.method} ${fallback.path} failed: ${message}`), {
      code: 'E_GITHUB_NETWORK',
      method: fallback.method,
      path: fallback.path,
      cause: new Error(clean(message)),
    });
  }

  const method = error.request?.method ?? fallback.method;
  const path = clean(pathOf(error.request?.url) ?? fallback.path);
  // Octokit reports a fetch that never got an answer as status 500 without a response.
  const status = error.response ? error.status : undefined;
  const headers = error.response?.headers ?? {};
  const data = (typeof error.response?.data === 'object' && error.response.data !== null ? error.response.data : {}) as {
    message?: unknown;
    documentation_url?: unknown;
    errors?: unknown;
  };
  const errors = Array.isArray(data.errors) ? (data.errors as Record<string, unknown>[]) : [];
  const apiMessage = typeof data.message === 'string' ? data.message : error.message;
  const detail = errors.length > 0 ? `${apiMessage}: ${errors.map((e) => JSON.stringify(e)).join(', ')}` : apiMessage;
  const causeMessage = error.cause instanceof Error ? error.cause.message : undefined;

  const classified = classify(status, headers, apiMessage);
  const retryAt = classified.code === 'E_GITHUB_RATE_LIMIT' ? rateLimitEnd(headers, now()) : undefined;
  const repository = /^\/repos\/[^/]+\/[^/]+/.exec(path)?.[0].slice('/repos/'.length) ?? 'the repository';
  const fix =
    retryAt !== undefined
      ? ` (GitHub's rate limit: retry after ${retryAt}; retrying sooner prolongs it)`
      : classified.code === 'E_GITHUB_EMPTY_REPOSITORY'
        ? ` (${repository} has no commits on GitHub yet: push the main branch there first, or fix "repository" in services.json)`
        : '';
  return new GitHubError(
    clean(status === undefined ? `GitHub ${method} ${path} failed: ${causeMessage ?? error.message}` : `GitHub ${method} ${path} → ${String(status)}: ${detail}${fix}`),
    {
      ...classified,
      retryAt,
      status,
      method,
      path,
      documentationUrl: typeof data.documentation_url === 'string' ? data.documentation_url : undefined,
      requestId: headers['x-github-request-id'],
      errors: JSON.parse(clean(JSON.stringify(errors))) as Record<string, unknown>[],
      cause: causeMessage === undefined ? undefined : new Error(clean(causeMessage)),
    },
  );
}

function pathOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

/** When GitHub allows the next request after a rate limit: Retry-After, else the reset of an exhausted limit, else a minute. */
function rateLimitEnd(headers: Record<string, string | undefined>, now: number): string {
  const after = headers['retry-after']?.trim();
  if (after !== undefined && /^\d+$/.test(after)) return new Date(now + Number(after) * 1000).toISOString();
  if (after !== undefined && !Number.isNaN(Date.parse(after))) return new Date(Date.parse(after)).toISOString();
  const reset = Number(headers['x-ratelimit-reset']);
  if (headers['x-ratelimit-remaining'] === '0' && Number.isFinite(reset) && reset > 0) return new Date(reset * 1000).toISOString();
  return new Date(now + HEADERLESS_RATE_LIMIT_WAIT_MS).toISOString();
}
