import type { ExitCode } from './exit-codes.js';
import type { Output } from './output.js';

/** What every handler gets: parsed global flags, output and the process environment. */
export interface CommandContext {
  /** --cwd: the workspace root; undefined means "nearest folder with services.json". */
  cwd: string | undefined;
  /** The folder slipway was started in. */
  processCwd: string;
  dryRun: boolean;
  out: Output;
  env: NodeJS.ProcessEnv;
}

export interface CommandInput {
  /** Positional arguments by name (`tag`, `service`, …). */
  args: Record<string, string | string[] | undefined>;
  /** Command flags in camelCase, without the global ones. */
  options: Record<string, unknown>;
}

/** What a handler returns: `data` is the --json document, `human` the text a person reads. */
export interface CommandResult {
  data: unknown;
  human: string;
  /** Non-zero when the command ran but found problems (check, verify). */
  exitCode?: ExitCode;
}

export type Handler = (input: CommandInput, ctx: CommandContext) => Promise<CommandResult>;
