// Renders docs/cli.md from the command definitions the parser itself is built from
// (apps/release/src/command-defs.ts), so the reference cannot describe flags the CLI lacks.
//
// Every command of CONTRACT §3 is listed, built or not: a command without a handler is marked
// "not built yet" (it exits 2 saying so). The marks are generated too, so the staleness test
// asks for a regeneration when a handler lands; that churn is the price of an honest page.
import type { CommandDef, OptionDef } from '@slipway/release';
import { code, document, prose, table } from './markdown.js';

// Mirrors addGlobalOptions() and the program options in apps/release/src/cli.ts, which are not
// data; a test runs the real CLI's --help to keep this list true.
export const GLOBAL_FLAGS: readonly { flags: string; description: string }[] = [
  { flags: '--json', description: 'print one JSON document on stdout (human output goes to stderr)' },
  { flags: '--cwd <dir>', description: 'workspace root (default: nearest folder with services.json)' },
  { flags: '-h, --help', description: 'display help for slipway or a command' },
];

const DRY_RUN: OptionDef = { flags: '--dry-run', description: 'show what would be done; write nothing' };

// CONTRACT §3.
const EXIT_CODES: readonly (readonly [string, string])[] = [
  ['0', 'done (or nothing to do)'],
  ['1', 'operational failure: network, registry, git, GitHub — safe to retry'],
  ['2', 'bad input: usage, config, tag, file — the message names what and where'],
  ['3', 'refused by policy: not on main, immutable artifact differs, gate not passed, approval missing'],
];

// Every environment variable slipway reads that a user sets. tools/docs/src/generate.test.ts checks
// the sources against it (env['…'] and 'SLIPWAY_…' names), so a new one cannot go undocumented.
export const ENVIRONMENT: readonly (readonly [string, string])[] = [
  ['GITHUB_TOKEN, GH_TOKEN', 'GitHub API token (releases, notes, dispatches, the pins repository over https); the first one set wins. Also the ghcr.io password when GHCR_TOKEN is unset.'],
  ['GITHUB_API_URL', 'GitHub API base URL, for GitHub Enterprise Server (default `https://api.github.com`); the token goes to this origin only.'],
  ['GHCR_TOKEN', 'Token for ghcr.io, exchanged at its token endpoint; `GITHUB_ACTOR` is sent as the user name.'],
  ['DOCKER_CONFIG', 'Folder of the docker `config.json` registry credentials (and its `credHelpers` / `credsStore`) are read from; default `$HOME/.docker`.'],
  ['REGISTRY_AUTH_FILE', 'podman/buildah builds: your containers auth file (default `$XDG_RUNTIME_DIR/containers/auth.json`), merged into the private one slipway hands the engine.'],
  ['NODE_AUTH_TOKEN, NPM_TOKEN', 'npm token for `kind: "npm"` services; otherwise npm\'s own configuration decides.'],
  ['GITHUB_ACTOR', 'Who promoted, in the audit trail (else git\'s `user.name`, else `$USER`).'],
  ['GITHUB_OUTPUT, GITHUB_STEP_SUMMARY', 'Set by GitHub Actions: `publish` and `reserve` write their outputs and a summary there.'],
  ['NODE_USE_ENV_PROXY', 'Node’s own setting (Node 24.5 and later): `1` makes Node’s agents, which slipway uses for registries, go through `HTTP_PROXY` / `HTTPS_PROXY` (minus `NO_PROXY`); on older Node registries are reached directly.'],
  ['SLIPWAY_GITHUB_TIMEOUT', 'Seconds one GitHub API request attempt may take, connect to last byte, before it is retried or fails; default 60.'],
  ['SLIPWAY_GIT_TIMEOUT', 'Seconds a git command that talks to a remote (clone, fetch, push, ls-remote) may take in all; default 600.'],
  ['SLIPWAY_BUILD_ENGINE', '`docker`, `podman` or `buildah`: the engine of `build.type: "docker"` on this machine, over services.json\'s `build.engine`; unset, one is detected.'],
  ['NO_COLOR', 'Any non-empty value turns colour off (https://no-color.org).'],
];

const longName = (flags: string) => /--([\w-]+)/.exec(flags)?.[1] ?? flags;
const sentence = (text: string) => `${prose(text.charAt(0).toUpperCase() + text.slice(1))}.`;

/** `slipway release <service> [options]`. */
export function usageLine(def: CommandDef): string {
  return ['slipway', def.name, ...def.args, '[options]'].join(' ');
}

/** The GitHub anchor of a command's heading. */
const anchor = (def: CommandDef) => `slipway-${def.name.replace(/ /g, '-')}`;

function flagsTable(def: CommandDef): string {
  const options = def.writes ? [...def.options, DRY_RUN] : def.options;
  if (options.length === 0) return 'No flags of its own; the global flags apply.';
  // A shared flag (--bump) may name a conflict the command doesn't have; commander ignores it, so do we.
  const own = new Set(options.map((opt) => longName(opt.flags)));
  const rows = options.map((opt) => [
    code(opt.flags),
    prose(opt.description),
    (opt.choices ?? []).map(code).join(', '),
    (opt.conflicts ?? [])
      .filter((name) => own.has(name))
      .map((name) => code(`--${name}`))
      .join(', '),
  ]);
  return `${table(['Flag', 'Description', 'Choices', 'Conflicts with'], rows)}\n\nThe global flags (${GLOBAL_FLAGS.map((g) => code(g.flags)).join(', ')}) apply too.`;
}

function commandSection(def: CommandDef, built: boolean): string {
  return document([
    `### slipway ${def.name}`,
    '```\n' + usageLine(def) + '\n```',
    sentence(def.summary),
    built ? undefined : '**Not built yet:** part of the contract, but this version exits 2 with "not built yet".',
    def.writes ? '**Writes:** yes — takes `--dry-run`, which writes nothing.' : '**Writes:** no — read-only, no `--dry-run`.',
    flagsTable(def),
  ]).trimEnd();
}

/**
 * The CLI reference (docs/cli.md). `builtNames` are the commands with a handler
 * (`Object.keys(handlers)`); the others are marked "not built yet".
 */
export function renderCliReference(commands: readonly CommandDef[], builtNames: Iterable<string>): string {
  const built = new Set(builtNames);
  const overview = table(
    ['Command', 'Does'],
    commands.map((def) => [
      `[${code(`slipway ${def.name}`)}](#${anchor(def)})`,
      built.has(def.name) ? prose(def.summary) : `${prose(def.summary)} *(not built yet)*`,
    ]),
  );
  return document([
    '<!-- Generated by tools/docs/generate.ts from apps/release/src/command-defs.ts. Do not edit: run `npm run docs`. -->',
    '# `slipway` CLI reference',
    'Every command below is also runnable through Nx as `npx nx run release:<service> [-- flags]`, which is ' +
      '`slipway release <service> …`. Unknown flags are errors. Commands marked *not built yet* belong to the ' +
      'contract but have no handler in this version; this page is generated from the code, so the mark goes ' +
      'away when the command lands.',
    '## Commands',
    overview,
    '## Global flags',
    'Every command takes these. `-V, --version` prints the slipway version.',
    table(
      ['Flag', 'Description'],
      GLOBAL_FLAGS.map((g) => [code(g.flags), g.description]),
    ),
    'With `--json`, stdout carries exactly one JSON document and human output goes to stderr. ' +
      'Commands that write take `--dry-run` as well.',
    '## Exit codes',
    table(['Code', 'Meaning'], EXIT_CODES.map(([c, meaning]) => [code(c), meaning])),
    'Errors under `--json`: `{ "error": { "code": "E_…", "message": "…" } }` on stdout.',
    '## Environment',
    table(['Variable', 'Meaning'], ENVIRONMENT.map(([names, meaning]) => [names.split(', ').map(code).join(', '), meaning])),
    'Secrets in these variables, and credentials in any URL given, are never printed: human output, `--json`, errors and the release manifest all show them as `***`.',
    '## Command reference',
    ...commands.map((def) => commandSection(def, built.has(def.name))),
  ]);
}
