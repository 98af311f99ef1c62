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

/** Refused by policy (CONTRACT exit 3): not on main, immutable artifact differs, gate not passed. */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  readonly exitCode = 3 as const;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Something that should exist does not, or does not match (verify): operational, exit 1. */
export class VerificationError extends Error {
  override readonly name = 'VerificationError';
  readonly exitCode = 1 as const;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
