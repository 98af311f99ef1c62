export type ChangelogErrorCode = 'E_CHANGELOG_VERSION' | 'E_CHANGELOG_MISSING' | 'E_CHANGELOG_EMPTY';

/** A changelog file or version the release needs is missing or unusable. Bad input: exit 2. */
export class ChangelogError extends Error {
  override readonly name = 'ChangelogError';
  readonly exitCode = 2 as const;
  readonly code: ChangelogErrorCode;
  readonly version: string;
  readonly path: string | undefined;

  constructor(
    code: ChangelogErrorCode,
    message: string,
    details: { version: string; path?: string | undefined },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    this.version = details.version;
    this.path = details.path;
  }
}
