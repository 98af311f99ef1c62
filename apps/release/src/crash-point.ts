/**
 * Fault injection for crash-and-resume tests: when SLIPWAY_TEST_CRASH_AFTER names this step,
 * the process dies here with SIGKILL — no cleanup, no finally blocks, exactly like a runner
 * losing its machine. Every step of publish is idempotent, so a re-run must converge to the
 * state of an uninterrupted run (docs/guarantees.md). Unset in normal use.
 */
export function crashPoint(env: NodeJS.ProcessEnv, step: string): void {
  if (env['SLIPWAY_TEST_CRASH_AFTER'] === step) process.kill(process.pid, 'SIGKILL');
}
