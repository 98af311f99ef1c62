import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { COMMANDS, type CommandDef } from './command-defs.js';
import { handlerLoaders } from './commands/lazy.js';
import type { CommandContext, Env, Handler, TextStream } from './context.js';
import { NotBuiltError, UsageError } from './errors.js';
import { reportError, type ExitCode } from './exit-codes.js';
import { createOutput } from './output.js';
import { safeStreams } from './safe-text.js';

export interface RunIo {
  stdout: TextStream;
  stderr: TextStream;
  env: Env;
  cwd: string;
}

const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
export const VERSION = packageJson.version;

const argName = (spec: string) => spec.replace(/[<>[\].]/g, '');

function addGlobalOptions(command: Command): Command {
  return command
    .option('--json', 'print one JSON document on stdout (human output goes to stderr)')
    .option('--cwd <dir>', 'workspace root (default: nearest folder with services.json)');
}

/** Builds the commander program from the command definitions; `onRun` receives each invocation. */
export function buildProgram(
  io: Pick<RunIo, 'stdout' | 'stderr'>,
  onRun: (def: CommandDef, load: (() => Promise<Handler>) | undefined, cmd: Command) => void,
): Command {
  // Errors are reported once, by run(); commander only writes help and version.
  const streams = { writeOut: (s: string) => io.stdout.write(s), writeErr: (s: string) => io.stderr.write(s), outputError: () => undefined };
  const program = addGlobalOptions(new Command('slipway'))
    .description('Per-service releases for Nx monorepos: tags, images, GitHub releases and promotion pins.')
    .version(VERSION, '-V, --version', 'print the slipway version')
    .addHelpText(
      'after',
      '\nExit codes: 0 done · 1 operational failure (safe to retry) · 2 bad input · 3 refused by policy\n' +
        'Environment: GITHUB_TOKEN (or GH_TOKEN), GHCR_TOKEN, NODE_AUTH_TOKEN, SLIPWAY_GIT_TIMEOUT, SLIPWAY_BUILD_ENGINE, NO_COLOR and more: see docs/cli.md#environment.\n' +
        'Run `slipway <command> --help` for a command\'s flags.',
    )
    // Program flags only before the command, so `release api --version 1.2.3` is the command's flag.
    .enablePositionalOptions()
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput(streams);

  const groups = new Map<string, Command>();
  for (const def of COMMANDS) {
    const load = handlerLoaders[def.name];
    const words = def.name.split(' ');
    let parent = program;
    for (const word of words.slice(0, -1)) {
      let group = groups.get(word);
      if (!group) {
        const members = COMMANDS.filter((c) => c.name.startsWith(`${word} `)).map((c) => c.name.slice(word.length + 1));
        group = program.command(word).description(`${word} ${members.join('|')}`).exitOverride();
        group.configureOutput(streams);
        groups.set(word, group);
      }
      parent = group;
    }
    const leaf = parent.command(words[words.length - 1] ?? def.name).description(load ? def.summary : `${def.summary} (not built yet)`);
    for (const arg of def.args) leaf.argument(arg);
    for (const opt of def.options) {
      const option = new Option(opt.flags, opt.description);
      if (opt.choices) option.choices([...opt.choices]);
      if (opt.conflicts) option.conflicts([...opt.conflicts]);
      leaf.addOption(option);
    }
    if (def.writes) leaf.option('--dry-run', 'show what would be done; write nothing');
    addGlobalOptions(leaf)
      .exitOverride()
      .configureOutput(streams)
      .action((...params: unknown[]) => onRun(def, load, params[params.length - 1] as Command));
  }
  return program;
}

const noCommand = () => new UsageError('no command given; `slipway --help` lists the commands');

/**
 * Runs the slipway CLI with `argv` (without `node slipway`) and returns the exit code. Never
 * throws and never calls process.exit: main.ts does that.
 */
export async function run(argv: readonly string[], rawIo: RunIo): Promise<ExitCode> {
  const wantsJson = argv.includes('--json');
  const io: RunIo = { ...rawIo, ...safeStreams(rawIo, { json: wantsJson, env: rawIo.env }) };
  let invocation: { def: CommandDef; load: (() => Promise<Handler>) | undefined; cmd: Command } | undefined;
  const program = buildProgram(io, (def, load, cmd) => {
    invocation = { def, load, cmd };
  });

  const fail = (error: unknown): ExitCode => {
    const report = reportError(error);
    if (wantsJson) io.stdout.write(`${JSON.stringify({ error: { code: report.code, message: report.message } }, null, 2)}\n`);
    else io.stderr.write(`slipway: error: ${report.message}\n${report.hint ? `  next: ${report.hint}\n` : ''}`);
    return report.exitCode;
  };

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0; // --help, --version
      // Bare `slipway` (or a bare group): commander printed the help on stderr.
      if (error.code === 'commander.help' || error.code === 'commander.helpDisplayed') return wantsJson ? fail(noCommand()) : 2;
    }
    return fail(error);
  }
  if (!invocation) return wantsJson ? fail(noCommand()) : 2;

  const { def, load, cmd } = invocation;
  const globals = cmd.optsWithGlobals<{ json?: boolean; cwd?: string; dryRun?: boolean }>();
  const out = createOutput({ json: globals.json === true, stdout: io.stdout, stderr: io.stderr, env: io.env });
  try {
    if (!load) throw new NotBuiltError(def.name);
    const handler = await load();
    const { json: _json, cwd: _cwd, dryRun: _dryRun, ...options } = cmd.opts<Record<string, unknown>>();
    const args: Record<string, string | string[] | undefined> = {};
    def.args.forEach((spec, i) => {
      args[argName(spec)] = cmd.processedArgs[i] as string | string[] | undefined;
    });
    const ctx: CommandContext = { cwd: globals.cwd, processCwd: io.cwd, dryRun: globals.dryRun === true, out, env: io.env };
    const result = await handler({ args, options }, ctx);
    out.result(result.data, result.human);
    return result.exitCode ?? 0;
  } catch (error) {
    return fail(error);
  }
}
