export interface RetryOptions {
  /** Tries in all, the first included. Default 5. */
  attempts?: number;
  /** First backoff step. Default 250 ms. */
  baseDelayMs?: number;
  /** Cap on one backoff step. Default 8 s. */
  maxDelayMs?: number;
  /** A `Retry-After` longer than this is not waited for: the call fails as rate limited. Default 60 s. */
  maxRetryAfterMs?: number;
}

export type ResolvedRetry = Required<RetryOptions>;

export function resolveRetry(options: RetryOptions = {}): ResolvedRetry {
  return {
    attempts: Math.max(1, options.attempts ?? 5),
    baseDelayMs: options.baseDelayMs ?? 250,
    maxDelayMs: options.maxDelayMs ?? 8_000,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
  };
}

/** Capped exponential backoff with jitter: half fixed, half random, so retries spread out. */
export function backoffDelay(retry: ResolvedRetry, attempt: number, random: () => number): number {
  const step = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attempt);
  return Math.round(step / 2 + random() * (step / 2));
}

export const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/** `Retry-After` as delta-seconds or an HTTP date, in milliseconds from `now`. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** A failure of the connection itself (reset, refused, timed out), worth another try. */
export function isTransientNetworkError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
    if (e.name === 'TimeoutError' || /other side closed|socket hang up|terminated/i.test(e.message)) return true;
  }
  return false;
}

/** The code (ECONNRESET, …) or name of a network failure, for messages that carry nothing else. */
export function networkErrorSummary(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    parts.push(typeof code === 'string' ? code : e.message);
  }
  return [...new Set(parts)].join(': ') || String(error);
}
