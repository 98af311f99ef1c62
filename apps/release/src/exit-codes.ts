import { CommanderError } from 'commander';

/** CONTRACT §3: 0 done, 1 operational (retry is safe), 2 bad input, 3 refused by policy. */
export type ExitCode = 0 | 1 | 2 | 3;

export interface ErrorReport {
  exitCode: ExitCode;
  code: string;
  message: string;
  /** What to do next, when the message itself does not already say. */
  hint: string | undefined;
}

// A message that already tells the reader what to do needs no generic hint after it.
const GUIDANCE = /(^|[.;:(—,]\s*|\bthen\s+|\bor\s+)(run|re-run|use|set|pass|add|give|check out|check|create|push|tag|bump|fix|remove|retry|try|see|wait|commit|point|report|release a new)\b|\binstead\b|`(slipway|npx|git|npm) [^`]+`|[\s(]--[a-z][a-z-]+/i;

const HINTS: Record<1 | 2 | 3, string> = {
  1: 'safe to retry: run the same command again once the service named above answers (nothing is left half-written).',
  2: 'fix the input named above and run again; `slipway <command> --help` lists every flag.',
  3: 'refused by policy: this needs a decision (a new version, an approval, a commit on main), not a retry.',
};

/** The report for `error`, with a next step for a person unless the message already gives one. */
export function withHint(report: Omit<ErrorReport, 'hint'>): ErrorReport {
  return { ...report, hint: report.exitCode === 0 || GUIDANCE.test(report.message) ? undefined : HINTS[report.exitCode as 1 | 2 | 3] };
}

const isExitCode = (value: unknown): value is 1 | 2 | 3 => value === 1 || value === 2 || value === 3;

/**
 * The one place that turns an error into an exit code and a message. Library errors carry their
 * own `exitCode` (bad input 2, operational 1, policy 3) and a stable `code`; anything else is a
 * bug or an unexpected system failure and exits 1.
 */
export function reportError(error: unknown): ErrorReport {
  return withHint(classify(error));
}

function classify(error: unknown): Omit<ErrorReport, 'hint'> {
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
