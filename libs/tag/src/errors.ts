/** Why a tag was refused. Stable: tests and callers may branch on it; the message is for people. */
export type TagInvalidReason =
  | 'empty'
  | 'too-long'
  | 'bad-characters'
  | 'build-metadata'
  | 'ref-format'
  | 'unknown-service'
  | 'missing-service'
  | 'missing-v'
  | 'unexpected-v'
  | 'not-semver'
  | 'leading-zero'
  | 'scheme-grammar'
  | 'bad-sha'
  | 'bad-commit'
  | 'reserved-name'
  | 'wrong-scheme'
  | 'no-image';

/** A tag (or a name that would become one) is not valid. Always bad input: exit 2. */
export class TagError extends Error {
  override readonly name = 'TagError';
  readonly code = 'E_TAG_INVALID' as const;
  readonly exitCode = 2 as const;
  /** The text that was refused, exactly as given. */
  readonly tag: string;
  readonly reason: TagInvalidReason;
  /** For `unknown-service` and `missing-service`: the services the tag could have named. */
  readonly knownServices: readonly string[] | undefined;

  constructor(
    tag: string,
    reason: TagInvalidReason,
    detail: string,
    options: { knownServices?: readonly string[]; cause?: unknown; subject?: string } = {},
  ) {
    super(`Invalid ${options.subject ?? 'tag'} ${quote(tag)}: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.tag = tag;
    this.reason = reason;
    this.knownServices = options.knownServices;
  }
}

/** A version string (or a bump request) is not valid. Always bad input: exit 2. */
export class VersionError extends Error {
  override readonly name = 'VersionError';
  readonly code = 'E_VERSION_INVALID' as const;
  readonly exitCode = 2 as const;
  readonly version: string;

  constructor(version: string, detail: string, options: { cause?: unknown } = {}) {
    super(`Invalid version ${quote(version)}: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.version = version;
  }
}

// Tags come from CI events and users; keep messages one readable line even for 300-character or
// control-character input.
export function quote(text: string): string {
  const shown = [...text].length > 80 ? `${[...text].slice(0, 60).join('')}…(${[...text].length} characters)` : text;
  return JSON.stringify(shown);
}
