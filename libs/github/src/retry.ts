import type { Octokit } from '@octokit/rest';
import { GitHubRefusedError } from './guarded-fetch.js';

export interface RetryOptions {
  /** Tries per request, the first included; default 4. 1 turns retrying off. */
  attempts?: number;
  /** First backoff step in ms, doubled per retry, jittered; default 300. */
  baseDelayMs?: number;
  /**
   * Longest single wait in ms: the budget. A Retry-After, rate-limit reset or headerless rate
   * limit (at least 60 s) further away fails at once with E_GITHUB_RATE_LIMIT and its `retryAt`.
   * Default 10 000.
   */
  maxDelayMs?: number;
  /** Tests inject this to record waits instead of taking them. */
  sleep?: (ms: number) => Promise<void>;
  /** In [0, 1); jitter source. */
  random?: () => number;
  /** Epoch ms; for `x-ratelimit-reset`. */
  now?: () => number;
}

/**
 * Passed per call as `request: { onAmbiguousRetry }`: told when an attempt that may have been
 * applied (network error, 5xx, cut-off body) is about to be repeated, so the caller can read a
 * "already exists" on the repeat as its own earlier success.
 */
export type AmbiguousRetryListener = () => void;

/**
 * Requests we may repeat. Reads always; a release PATCH sends the same body again; the three
 * POSTs only because their callers already cope with "it may have applied": createRef and
 * createRelease read back what a 422 "already exists" names, and dispatch is at-least-once.
 */
const REPEATABLE = new Set([
  'PATCH /repos/{owner}/{repo}/releases/{release_id}',
  'POST /repos/{owner}/{repo}/git/refs',
  'POST /repos/{owner}/{repo}/releases',
  'POST /repos/{owner}/{repo}/dispatches',
]);

function repeatable(method: string, route: string): boolean {
  const m = method.toUpperCase();
  return m === 'GET' || m === 'HEAD' || REPEATABLE.has(`${m} ${route}`);
}

interface FailureLike {
  status?: unknown;
  message?: unknown;
  response?: { status?: number; headers?: Record<string, string | number | undefined>; data?: unknown };
}

interface Verdict {
  /** The server may have acted on the request. */
  ambiguous: boolean;
  /** A wait the server asked for (or GitHub's minimum); undefined means use backoff. */
  waitMs?: number;
}

/** A 2xx JSON answer whose body did not arrive whole; Octokit hands the partial text on as data. */
export class TruncatedResponseError extends Error {
  override readonly name = 'TruncatedResponseError';
}

function header(headers: Record<string, string | number | undefined>, name: string): string | undefined {
  const value = headers[name];
  return value === undefined ? undefined : String(value);
}

function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * GitHub: "Otherwise, wait for at least one minute before retrying", for a rate limit that names
 * no time; retrying sooner can get an integration banned.
 */
export const HEADERLESS_RATE_LIMIT_WAIT_MS = 60_000;

/** Whether a failure is worth another try, and how long the server asked us to wait. */
function judge(error: unknown, now: number, attempt: number): Verdict | undefined {
  if (error instanceof TruncatedResponseError) return { ambiguous: true };
  // A request the guarded fetch refused (another origin, a body too large) fails the same way again.
  if (error instanceof Error && error.cause instanceof GitHubRefusedError) return undefined;
  const e = (typeof error === 'object' && error !== null ? error : {}) as FailureLike;
  // No response at all (refused, reset, timed out): Octokit says 500 without a response.
  if (!e.response) return { ambiguous: true };
  const status = e.response.status ?? (typeof e.status === 'number' ? e.status : 0);
  const headers = e.response.headers ?? {};
  const asked = retryAfterMs(header(headers, 'retry-after'), now);

  const message = typeof e.message === 'string' ? e.message : '';
  const rateLimited =
    status === 429 || (status === 403 && (asked !== undefined || header(headers, 'x-ratelimit-remaining') === '0' || /rate limit/i.test(message)));
  if (rateLimited) {
    if (asked !== undefined) return { ambiguous: false, waitMs: asked };
    const reset = Number(header(headers, 'x-ratelimit-reset'));
    if (header(headers, 'x-ratelimit-remaining') === '0' && Number.isFinite(reset) && reset > 0) {
      return { ambiguous: false, waitMs: Math.max(0, reset * 1000 - now) };
    }
    // No time named: at least a minute, doubling on each repeat (GitHub's advice for secondary limits).
    return { ambiguous: false, waitMs: HEADERLESS_RATE_LIMIT_WAIT_MS * 2 ** (attempt - 1) };
  }
  if (status === 408) return { ambiguous: false };
  if (status >= 500) return asked === undefined ? { ambiguous: true } : { ambiguous: true, waitMs: asked };
  return undefined;
}

function truncated(response: { status: number; headers: Record<string, string | number | undefined>; data: unknown }): boolean {
  const type = header(response.headers, 'content-type') ?? '';
  return response.status >= 200 && response.status < 300 && response.status !== 204 && /\bjson\b/i.test(type) && typeof response.data === 'string';
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Retries transient failures inside Octokit's request hook, so every call (pagination pages
 * included) gets the same policy: only repeatable requests, only after a network error, a cut-off
 * body, 408, 429, 5xx or a 403 secondary rate limit; capped exponential backoff with jitter; the
 * server's Retry-After / x-ratelimit-reset honoured when within `maxDelayMs`, otherwise the
 * rate-limit error is thrown at once.
 */
export function installRetry(octokit: Octokit, options: RetryOptions = {}): void {
  const attempts = Math.max(1, Math.floor(options.attempts ?? 4));
  const base = options.baseDelayMs ?? 300;
  const cap = options.maxDelayMs ?? 10_000;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;

  octokit.hook.wrap('request', async (request, endpoint) => {
    const retry = repeatable(endpoint.method, endpoint.url);
    const listener = (endpoint.request as { onAmbiguousRetry?: AmbiguousRetryListener } | undefined)?.onAmbiguousRetry;
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await request(endpoint);
        if (truncated(response)) throw new TruncatedResponseError(`GitHub sent a truncated ${String(response.status)} response`);
        return response;
      } catch (error) {
        const verdict = retry && attempt < attempts ? judge(error, now(), attempt) : undefined;
        if (!verdict) throw error;
        const step = Math.min(cap, base * 2 ** (attempt - 1));
        const wait = verdict.waitMs ?? step / 2 + random() * (step / 2);
        if (wait > cap) throw error;
        if (verdict.ambiguous) listener?.();
        await sleep(wait);
      }
    }
  });
}
