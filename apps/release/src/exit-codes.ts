import { CommanderError } from 'commander';

/** CONTRACT §3: 0 done, 1 operational (retry is safe), 2 bad input, 3 refused by policy. */
export type ExitCode = 0 | 1 | 2 | 3;

export interface ErrorReport {
  exitCode: ExitCode;
  code: string;
  message: string;
}

const isExitCode = (value: unknown): value is 1 | 2 | 3 => value === 1 || value === 2 || value === 3;

/**
 * The one place that turns an error into an exit code and a message. Library errors carry their
 * own `exitCode` (bad input 2, operational 1, policy 3) and a stable `code`; anything else is a
 * bug or an unexpected system failure and exits 1.
 */
export function reportError(error: unknown): ErrorReport {
  if (error instanceof CommanderError) {
    return { exitCode: 2, code: 'E_USAGE', message: error.message.replace(/^error: /, '') };
  }
  if (error instanceof Error) {
    const { exitCode, code } = error as Error & { exitCode?: unknown; code?: unknown };
    if (isExitCode(exitCode)) {
      return { exitCode, code: typeof code === 'string' ? code : 'E_FAILED', message: error.message };
    }
    const systemCode = typeof code === 'string' ? code : undefined;
    return {
      exitCode: 1,
      code: systemCode ? `E_SYSTEM_${systemCode}` : 'E_INTERNAL',
      message: systemCode ? error.message : `unexpected error: ${error.message} (this is a bug in slipway; please report it with the command you ran)`,
    };
  }
  return { exitCode: 1, code: 'E_INTERNAL', message: `unexpected error: ${String(error)}` };
}
