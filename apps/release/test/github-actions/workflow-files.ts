import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { COMMANDS, type CommandDef } from '../../src/command-defs.js';

/** The repository root, where docs/github-actions/ and actions/ live. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const WORKFLOW_DIR = join(REPO_ROOT, 'docs/github-actions');
export const PUBLISH_ACTION = join(REPO_ROOT, 'actions/publish/action.yml');

export interface Step {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string | number | boolean>;
  env?: Record<string, string>;
  shell?: string;
}

export interface Job {
  needs?: string | string[];
  if?: string;
  environment?: string | { name: string };
  outputs?: Record<string, string>;
  strategy?: { 'fail-fast'?: boolean; matrix?: string | { include?: Record<string, string>[] } };
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  steps: Step[];
}

export interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress'?: boolean };
  jobs: Record<string, Job>;
}

export interface CompositeAction {
  name: string;
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string; value: string }>;
  runs: { using: 'composite'; steps: Step[] };
}

export const workflowFiles = (): string[] =>
  readdirSync(WORKFLOW_DIR)
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((f) => join(WORKFLOW_DIR, f));

export const readWorkflow = (file: string): Workflow => parse(readFileSync(file, 'utf8')) as Workflow;
export const readAction = (file = PUBLISH_ACTION): CompositeAction => parse(readFileSync(file, 'utf8')) as CompositeAction;
export const shortName = (file: string): string => relative(REPO_ROOT, file);

/** Every `run:` script of a workflow or composite action, with where it is. */
export function runScripts(file: string): Array<{ where: string; script: string }> {
  const doc = parse(readFileSync(file, 'utf8')) as Partial<Workflow & CompositeAction>;
  const jobs = doc.jobs ? Object.entries(doc.jobs).map(([name, job]) => [name, job.steps] as const) : [['runs', doc.runs?.steps ?? []] as const];
  return jobs.flatMap(([job, steps]) =>
    steps.flatMap((step, i) => (typeof step.run === 'string' ? [{ where: `${job}.steps[${String(step.id ?? i)}]`, script: step.run }] : [])),
  );
}

/** Shell words of one line, quotes removed; `"${args[@]}"` stays as one word. Enough for our scripts. */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|([^\s"';|&)]+)|([;|&)])/g;
  for (const m of line.matchAll(re)) {
    if (m[4] !== undefined) break; // end of this command: ; | && )
    out.push(m[1] ?? m[2] ?? m[3] ?? '');
  }
  return out;
}

export interface SlipwayCall {
  where: string;
  /** The words after `slipway`, as written. */
  words: string[];
  /** Flags the script adds through `args+=(--flag …)` and passes as "${args[@]}". */
  arrayFlags: string[];
}

/** Every `slipway …` invocation in the run scripts of a file. */
export function slipwayCalls(file: string): SlipwayCall[] {
  return runScripts(file).flatMap(({ where, script }) => {
    const arrayFlags = [...script.matchAll(/args\+=\(([^)]*)\)/g)].flatMap((m) => words(m[1] ?? '').filter((w) => w.startsWith('--')));
    return script
      .split('\n')
      .flatMap((line) => {
        const at = line.search(/(?:^|[\s(])slipway\s/);
        return at === -1 ? [] : [words(line.slice(line.indexOf('slipway', at) + 'slipway'.length))];
      })
      .map((w) => ({ where, words: w, arrayFlags }));
  });
}

const GLOBAL_FLAGS = ['--json', '--cwd <dir>', '--help'];

/** Problems with one call against the command definitions: unknown command, flag or argument count. */
export function checkCall(call: SlipwayCall, commands: readonly CommandDef[] = COMMANDS): string[] {
  const byLength = [...commands].sort((a, b) => b.name.split(' ').length - a.name.split(' ').length);
  const def = byLength.find((c) => c.name.split(' ').every((part, i) => call.words[i] === part));
  if (!def) return [`${call.where}: no slipway command "${call.words.slice(0, 2).join(' ')}"`];
  const flagDefs = [...def.options.map((o) => o.flags), ...GLOBAL_FLAGS, ...(def.writes ? ['--dry-run'] : [])];
  const flagOf = (word: string) => flagDefs.find((f) => f.split(' ')[0] === word);
  const problems: string[] = [];
  const positional: string[] = [];
  const rest = call.words.slice(def.name.split(' ').length);
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i] ?? '';
    if (word === '${args[@]}') continue;
    if (word.startsWith('--')) {
      const flag = flagOf(word);
      if (!flag) problems.push(`${call.where}: slipway ${def.name} has no flag ${word}`);
      else if (flag.includes('<')) i++; // its value
      continue;
    }
    positional.push(word);
  }
  for (const word of call.arrayFlags) {
    if (!flagOf(word)) problems.push(`${call.where}: slipway ${def.name} has no flag ${word} (added to args)`);
  }
  const required = def.args.filter((a) => a.startsWith('<')).length;
  const variadic = def.args.some((a) => a.includes('...'));
  if (positional.length < required || (!variadic && positional.length > def.args.length)) {
    problems.push(`${call.where}: slipway ${def.name} takes ${def.args.join(' ') || 'no arguments'}, given ${positional.length}: ${positional.join(' ')}`);
  }
  return problems;
}
