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
