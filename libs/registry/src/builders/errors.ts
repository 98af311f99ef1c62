export type BuilderKind = 'layer' | 'docker' | 'prebuilt';

export type BuildErrorCode =
  /** The build input is wrong: missing folder, bad option, no matching platform in the base. */
  | 'E_BUILD_INPUT'
  /** No build engine is installed, or the one chosen is not (not on PATH): fix the machine or the setting. */
  | 'E_BUILD_TOOL_MISSING'
  /** The build tool ran past the build's deadline and was stopped with every process it started. */
  | 'E_BUILD_TIMEOUT'
  /** The build tool ran and failed. */
  | 'E_BUILD_FAILED'
  /** The build ran but its output could not be read (metadata file missing or without a digest). */
  | 'E_BUILD_OUTPUT';

export class BuildError extends Error {
  override readonly name = 'BuildError';
  readonly code: BuildErrorCode;
  readonly exitCode: 1 | 2;
  readonly builder: BuilderKind;

  constructor(builder: BuilderKind, code: BuildErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.builder = builder;
    this.code = code;
    // A missing engine is not fixed by a retry: it is the machine's setup or the engine setting.
    this.exitCode = code === 'E_BUILD_INPUT' || code === 'E_BUILD_TOOL_MISSING' ? 2 : 1;
  }
}

/** A `prebuilt` template that cannot name one immutable image: unknown placeholder, or a floating tag. */
export class PrebuiltTemplateError extends Error {
  override readonly name = 'PrebuiltTemplateError';
  readonly code = 'E_PREBUILT_TEMPLATE';
  readonly exitCode = 2 as const;
  readonly template: string;

  constructor(message: string, template: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.template = template;
  }
}

/** The image CI should have built for this commit is not in the registry. */
export class PrebuiltNotFoundError extends Error {
  override readonly name = 'PrebuiltNotFoundError';
  readonly code = 'E_PREBUILT_NOT_FOUND';
  readonly exitCode = 1 as const;
  readonly ref: string;
  readonly commit: string;

  constructor(ref: string, commit: string) {
    super(`prebuilt image ${ref} not found: CI must build and push it for commit ${commit} before it can be promoted`);
    this.ref = ref;
    this.commit = commit;
  }
}
