import type { ExitCode } from './exit-codes.js';
import type { Output } from './output.js';

/**
 * The process environment as commands read it: `process.env` fits, and a library user needs no
 * Node typings to pass one.
 */
export type Env = Record<string, string | undefined>;

/** Where text output goes: `process.stdout`, `process.stderr` or any sink with `write`. */
export interface TextStream {
  write(text: string): unknown;
  isTTY?: boolean;
  /**
   * Replace the current terminal line with `line` (a progress display): offered only by the
   * safe-text boundary (safeStreams), which neutralizes `line` like any other text and adds the
   * one control that returns to the start of the line and clears it.
   */
  redraw?(line: string): void;
}

/** What every handler gets: parsed global flags, output and the process environment. */
export interface CommandContext {
  /** --cwd: the workspace root; undefined means "nearest folder with services.json". */
  cwd: string | undefined;
  /** The folder slipway was started in. */
  processCwd: string;
  dryRun: boolean;
  out: Output;
  env: Env;
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
