// Every command of CONTRACT §3 as data: names, arguments, flags and help. The parser (cli.ts)
// and the generated CLI reference are both built from this list; handlers live in commands/.

export interface OptionDef {
  /** Commander flag syntax, e.g. `--bump <kind>` or `--approved-by <name...>`. */
  flags: string;
  description: string;
  choices?: readonly string[];
  /** Long names of options this one cannot be combined with. */
  conflicts?: readonly string[];
}

export interface CommandDef {
  /** Space-separated path: `publish`, `tag inspect`, `image copy`. */
  name: string;
  /** Positional arguments in commander syntax: `<tag>`, `[service...]`. */
  args: readonly string[];
  summary: string;
  options: readonly OptionDef[];
  /** Commands that write get --dry-run. */
  writes: boolean;
}

const bump: OptionDef = {
  flags: '--bump <kind>',
  description: 'next version by bump instead of conventional commits',
  choices: ['major', 'minor', 'patch', 'prerelease'],
  conflicts: ['version'],
};
const preid: OptionDef = { flags: '--preid <id>', description: 'prerelease identifier for --bump prerelease (default "rc")' };

export const COMMANDS: readonly CommandDef[] = [
  {
    name: 'tag inspect',
    args: ['<tag>'],
    summary: "classify a tag under the workspace's scheme: kind, service, version, deploy, prerelease",
    options: [],
    writes: false,
  },
  {
    name: 'plan',
    args: ['[service...]'],
    summary: 'per service: last release tag, next version, commits since, whether affected, blast radius',
    options: [bump, preid, { flags: '--fetch', description: 'fetch origin/<main> and the tags from origin first (default: plan on what this clone has)' }],
    writes: false,
  },
  {
    name: 'release',
    args: ['<service>'],
    summary: 'create the next release tag at origin/<main> HEAD and push it',
    options: [
      { flags: '--version <X.Y.Z>', description: 'exact version to release (required for the first release)', conflicts: ['bump'] },
      bump,
      preid,
    ],
    writes: true,
  },
  {
    name: 'publish',
    args: ['<tag>'],
    summary: 'CI step for a tag push: check, build or locate the image, push, verify by digest, GitHub release, manifest',
    options: [{ flags: '--manifest <file>', description: 'write the release manifest (CONTRACT §4) to this file' }],
    writes: true,
  },
  {
    name: 'verify',
    args: ['<tag>'],
    summary: "the image tag resolves to the manifest's digest and the GitHub release exists",
    options: [{ flags: '--manifest <file>', description: 'release manifest to verify against' }],
    writes: false,
  },
  {
    name: 'promote',
    args: ['<service>'],
    summary: 'pass the gates, pin the digest in an environment, commit with audit trailers, push with retry',
    options: [
      { flags: '--to <env>', description: 'environment to promote to (required)' },
      { flags: '--version <version>', description: 'release version, resolved through its tag to a digest', conflicts: ['digest', 'manifest'] },
      { flags: '--digest <digest>', description: 'exact image digest (sha256:...)', conflicts: ['version', 'manifest'] },
      { flags: '--manifest <file>', description: 'release manifest written by publish (never re-resolved)', conflicts: ['version', 'digest'] },
      { flags: '--approved-by <name...>', description: 'approvers (only names listed in the environment count)' },
    ],
    writes: true,
  },
  {
    name: 'rollback',
    args: ['<service>'],
    summary: 're-pin the previous (or named) version of an environment, recorded like a promotion',
    options: [
      { flags: '--env <env>', description: 'environment to roll back (required)' },
      { flags: '--to <version>', description: 'version to return to (default: the one pinned before the current)' },
      { flags: '--approved-by <name...>', description: 'approvers, where the environment needs them' },
    ],
    writes: true,
  },
  {
    name: 'status',
    args: ['[service...]'],
    summary: 'per service and environment: version, digest, when, by whom; flags drift from the registry',
    options: [],
    writes: false,
  },
  {
    name: 'history',
    args: ['<service>'],
    summary: 'the promotion record of a service, newest first',
    options: [{ flags: '--env <env>', description: 'only this environment' }],
    writes: false,
  },
  {
    name: 'check',
    args: ['[service...]'],
    summary: 'release readiness without writing: config, build inputs, next version and its tag, changelog',
    options: [bump, preid],
    writes: false,
  },
  {
    name: 'affected',
    args: [],
    summary: 'services a change touches: their Nx project, one it depends on, or what nx affected counts (nx.json, lockfile)',
    options: [
      { flags: '--base <ref>', description: 'base ref (required)' },
      { flags: '--head <ref>', description: 'head ref (default HEAD)' },
    ],
    writes: false,
  },
  {
    name: 'reserve',
    args: ['<service>'],
    summary: 'staging-line: reserve X.Y.Z-staging.N atomically',
    options: [
      { flags: '--version-override <version>', description: 'reserve exactly this X.Y.Z-staging.N (an existing tag is accepted only at this commit)' },
      { flags: '--commit <rev>', description: 'commit to reserve for (default HEAD, the checked-out commit CI builds)' },
    ],
    writes: true,
  },
  {
    name: 'ci',
    args: [],
    summary: 'route a CI event (GITHUB_EVENT_NAME, GITHUB_REF, GITHUB_SHA, or flags) to the right action',
    options: [
      { flags: '--event <name>', description: 'event name, e.g. push (default $GITHUB_EVENT_NAME)' },
      { flags: '--ref <ref>', description: 'full ref, e.g. refs/tags/api/v1.2.3 (default $GITHUB_REF)' },
      { flags: '--sha <sha>', description: 'commit (default $GITHUB_SHA)' },
      { flags: '--version-override <version>', description: 'staging-line push to staging: reserve exactly this X.Y.Z-staging.N (a manual re-run)' },
    ],
    writes: true,
  },
  {
    name: 'image resolve',
    args: ['<ref>'],
    summary: 'digest of an image reference',
    options: [],
    writes: false,
  },
  {
    name: 'image copy',
    args: ['<src>', '<dst...>'],
    summary: 'copy by digest to one or more tags without pulling layers (all platforms)',
    options: [],
    writes: true,
  },
  {
    name: 'image tags',
    args: ['<repo>'],
    summary: 'every tag of a repository, across all pages',
    options: [],
    writes: false,
  },
];
