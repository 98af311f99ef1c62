export type RegistryErrorCode =
  | 'E_REGISTRY'
  | 'E_REGISTRY_NETWORK'
  | 'E_REGISTRY_UNAUTHORIZED'
  | 'E_REGISTRY_DENIED'
  | 'E_REGISTRY_NOT_FOUND'
  | 'E_REGISTRY_RATE_LIMITED'
  | 'E_REGISTRY_PROTOCOL'
  | 'E_REGISTRY_UNSAFE_URL'
  | 'E_REGISTRY_CREDENTIALS'
  | 'E_DIGEST_MISMATCH'
  | 'E_IMMUTABLE_TAG';

export interface RegistryErrorDetails {
  /** The registry host, e.g. `ghcr.io`. */
  host?: string | undefined;
  repository?: string | undefined;
  /** Tag or digest concerned. */
  reference?: string | undefined;
  /** HTTP status, when a response caused the error. */
  status?: number | undefined;
  /** The OCI error code from the response body (`MANIFEST_UNKNOWN`, `DENIED`, …). */
  ociCode?: string | undefined;
  cause?: unknown;
}

/**
 * An operational registry failure: network, protocol, or an answer we cannot use. Exit code 1
 * (safe to retry) unless a subclass says otherwise. Messages never carry credentials or tokens.
 */
export class RegistryError extends Error {
  override readonly name: string = 'RegistryError';
  readonly code: RegistryErrorCode;
  readonly exitCode: 1 | 2 | 3 = 1;
  readonly host: string | undefined;
  readonly repository: string | undefined;
  readonly reference: string | undefined;
  readonly status: number | undefined;
  readonly ociCode: string | undefined;

  constructor(message: string, details: RegistryErrorDetails & { code?: RegistryErrorCode } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = details.code ?? 'E_REGISTRY';
    this.host = details.host;
    this.repository = details.repository;
    this.reference = details.reference;
    this.status = details.status;
    this.ociCode = details.ociCode;
  }
}

/** 401: no credentials, wrong credentials, or a token without the scope the request needs. */
export class UnauthorizedError extends RegistryError {
  override readonly name = 'UnauthorizedError';
  constructor(message: string, details: RegistryErrorDetails = {}) {
    super(message, { status: 401, ...details, code: 'E_REGISTRY_UNAUTHORIZED' });
  }
}

/** 403: authenticated, not allowed. Never means "absent". */
export class DeniedError extends RegistryError {
  override readonly name = 'DeniedError';
  /** What to do about it, when we know (GHCR's package ↔ repository link). */
  readonly hint: string | undefined;
  constructor(message: string, details: RegistryErrorDetails & { hint?: string } = {}) {
    super(details.hint === undefined ? message : `${message}. ${details.hint}`, { status: 403, ...details, code: 'E_REGISTRY_DENIED' });
    this.hint = details.hint;
  }
}

export type NotFoundKind = 'manifest' | 'name' | 'blob';

/**
 * 404. `kind` says what is missing: `name` — the repository itself (a first publish);
 * `manifest` — the tag or digest in an existing repository; `blob` — a layer or config.
 */
export class NotFoundError extends RegistryError {
  override readonly name = 'NotFoundError';
  readonly kind: NotFoundKind;
  constructor(message: string, details: RegistryErrorDetails & { kind: NotFoundKind }) {
    super(message, { status: 404, ...details, code: 'E_REGISTRY_NOT_FOUND' });
    this.kind = details.kind;
  }
}

/** 429 after every retry, or a `Retry-After` longer than we are willing to wait. */
export class RateLimitedError extends RegistryError {
  override readonly name = 'RateLimitedError';
  /** What the registry asked us to wait, in milliseconds, when it said. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, details: RegistryErrorDetails & { retryAfterMs?: number | undefined } = {}) {
    super(message, { status: 429, ...details, code: 'E_REGISTRY_RATE_LIMITED' });
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** Content whose sha256 is not the digest it was asked for or announced with. */
export class DigestMismatchError extends RegistryError {
  override readonly name = 'DigestMismatchError';
  readonly expected: string;
  readonly actual: string;
  constructor(message: string, details: RegistryErrorDetails & { expected: string; actual: string }) {
    super(message, { ...details, code: 'E_DIGEST_MISMATCH' });
    this.expected = details.expected;
    this.actual = details.actual;
  }
}

/** A tag already points at another digest; tags are never moved. Refused by policy: exit 3. */
export class ImmutableTagError extends RegistryError {
  override readonly name = 'ImmutableTagError';
  override readonly exitCode = 3 as const;
  readonly tag: string;
  /** Where the tag points now. */
  readonly existing: string;
  /** What we were asked to point it at. */
  readonly wanted: string;
  constructor(details: { host?: string | undefined; repository: string; tag: string; existing: string; wanted: string }) {
    const where = details.host === undefined ? details.repository : `${details.host}/${details.repository}`;
    super(`${where}:${details.tag} already points to ${details.existing}, not ${details.wanted}; tags are immutable, refusing to move it`, {
      host: details.host,
      repository: details.repository,
      reference: details.tag,
      code: 'E_IMMUTABLE_TAG',
    });
    this.tag = details.tag;
    this.existing = details.existing;
    this.wanted = details.wanted;
  }
}

/** Credentials could not be read (docker config, credential helper). */
export class CredentialsError extends RegistryError {
  override readonly name = 'CredentialsError';
  override readonly exitCode: 1 | 2;
  /** The file at fault, when there is one. */
  readonly path: string | undefined;
  constructor(message: string, details: RegistryErrorDetails & { path?: string; badInput?: boolean } = {}) {
    super(message, { ...details, code: 'E_REGISTRY_CREDENTIALS' });
    this.exitCode = details.badInput === true ? 2 : 1;
    this.path = details.path;
  }
}

/** A malformed image reference: bad input, exit 2. */
export class InvalidImageRefError extends Error {
  override readonly name = 'InvalidImageRefError';
  readonly code = 'E_IMAGE_REF_INVALID' as const;
  readonly exitCode = 2 as const;
  readonly ref: string;
  /** `ref` as given, with credentials before the host (`user:token@host/…`, `https://user:token@…`) replaced by `***`. */
  constructor(ref: string, reason: string) {
    const shown = withoutUserinfo(ref);
    super(`invalid image reference ${JSON.stringify(shown)}: ${withoutUserinfo(reason)}`);
    this.ref = shown;
  }
}

/** True when `error` is a registry 404 (of the given kind, when one is named). */
export function isNotFound(error: unknown, kind?: NotFoundKind): error is NotFoundError {
  return error instanceof NotFoundError && (kind === undefined || error.kind === kind);
}

// Userinfo sits before the first `/` of the name; `nginx@sha256:…` (no `/` after the `@`) is a digest.
const USERINFO = /^(\s*(?:[a-z][a-z0-9+.-]*:\/\/)?)[^/@\s]*@(?=[^/@\s]*\/)/i;

function withoutUserinfo(text: string): string {
  return text.replace(USERINFO, '$1***@');
}
