/** A usage problem the CLI itself detects (conflicting flags, a missing argument). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'E_USAGE';
  readonly exitCode = 2 as const;
}

/** A command of CONTRACT §3 that this build of slipway does not implement yet. */
export class NotBuiltError extends Error {
  override readonly name = 'NotBuiltError';
  readonly code = 'E_NOT_BUILT';
  readonly exitCode = 2 as const;
  constructor(readonly command: string) {
    super(`\`slipway ${command}\` is not built yet in this version of slipway; see \`slipway --help\` for the commands that are.`);
  }
}

/** An error with a stable code; subclasses fix the exit code (CONTRACT §3). */
abstract class CodedError extends Error {
  abstract readonly exitCode: 1 | 2 | 3;
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Refused by policy (CONTRACT exit 3): not on main, immutable artifact differs, gate not passed. */
export class PolicyError extends CodedError {
  override readonly name = 'PolicyError';
  readonly exitCode = 3 as const;
}

/** Something that should exist does not, or does not match (verify): operational, exit 1. */
export class VerificationError extends CodedError {
  override readonly name = 'VerificationError';
  readonly exitCode = 1 as const;
}

/** Worth retrying as is: contention that outlasted our attempts, or access a token does not grant yet. Exit 1. */
export class OperationalError extends CodedError {
  override readonly name = 'OperationalError';
  readonly exitCode = 1 as const;
}

/**
 * The pins repository (CONTRACT §5) can't be used: missing, detached, locked, origin kept moving,
 * a pin path that leads out of it (`E_PINS_PATH`), or uncommitted changes where a pin is written
 * (`E_PINS_DIRTY`).
 */
export class PinsRepoError extends Error {
  override readonly name = 'PinsRepoError';
  constructor(
    readonly code: 'E_PINS_REPO' | 'E_PINS_LOCKED' | 'E_PINS_PUSH_CONTENDED' | 'E_PINS_PATH' | 'E_PINS_DIRTY',
    message: string,
    readonly exitCode: 1 | 2,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A version whose image was never published: nothing to pin (bad input, exit 2). */
export class NotPublishedError extends Error {
  override readonly name = 'NotPublishedError';
  readonly code = 'E_NOT_PUBLISHED';
  readonly exitCode = 2 as const;
  constructor(
    message: string,
    readonly tag: string,
    readonly image: string,
  ) {
    super(message);
  }
}

/** Build configuration that cannot work, found before any side effect (exit 2); `findings` as `slipway check` reports them. */
export class BuildConfigError extends Error {
  override readonly name = 'BuildConfigError';
  readonly code = 'E_BUILD_CONFIG';
  readonly exitCode = 2 as const;
  constructor(readonly findings: readonly { code: string; message: string }[]) {
    super(`${findings.map((f) => f.message).join('; ')}. Fix services.json or the files named (\`slipway check\` lists every finding); nothing was written.`);
  }
}
