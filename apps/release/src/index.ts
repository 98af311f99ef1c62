// The programmatic API of the slipway CLI: the same handlers the commands run.
export { run, VERSION, type RunIo } from './cli.js';
export { GRAPH_CACHE } from './adapters/project-graph.js';
export { COMMANDS, type CommandDef, type OptionDef } from './command-defs.js';
export { handlers } from './commands/index.js';
export { reportError, type ExitCode } from './exit-codes.js';
export type { CommandContext, CommandResult, Handler } from './context.js';
