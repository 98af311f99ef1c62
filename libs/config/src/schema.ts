import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { own } from './json-depth.js';

// The services.json schema of CONTRACT §1. Strict objects everywhere: a typo must fail loudly,
// not silently fall back to a default.
//
// Written with zod/mini, the same schemas, checks and messages as zod's chained API without its
// method-per-schema layer: every CLI command that reads services.json builds this schema at
// start, and on Node 20 (no compile cache) building the classic one cost `tag inspect` about
// 15 ms (issue 19, goal 4). `described` is zod's `.describe()`: the text goes to the JSON Schema.

/** `schema.describe(text)` of zod's classic API: registers the description, as `.describe` does. */
function described<T extends z.ZodMiniType>(schema: T, description: string): T {
  z.globalRegistry.add(schema, { description });
  return schema;
}

/** English messages, as the classic API sets them on first use; zod/mini leaves the locale unset. */
if (!z.config().localeError) z.config(en());

export const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const ENV_NAME = /^[a-z][a-z0-9-]{0,62}$/;

const serviceName = z
  .string()
  .check(z.regex(SERVICE_NAME, 'service names are lowercase letters, digits and "-", start with a letter, at most 63 characters'));

const envName = z
  .string()
  .check(z.regex(ENV_NAME, 'environment names are lowercase letters, digits and "-", start with a letter, at most 63 characters'));

const nonEmpty = (what: string) => z.string().check(z.minLength(1, `${what} must not be empty`));

// A relative path inside the workspace: no absolute paths, no escaping with "..".
const workspacePath = (what: string) =>
  nonEmpty(what).check(
    z.refine((p) => !p.startsWith('/') && !p.split(/[\\/]/).includes('..'), {
      message: `${what} must be a path inside the workspace (relative, no "..")`,
    }),
  );

const BUILD_TIMEOUT = /^(?=\d)(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** A `build.timeout` (`"90s"`, `"45m"`, `"1h30m"`) in milliseconds; NaN when it is not one. */
export function durationMs(text: string): number {
  const match = BUILD_TIMEOUT.exec(text);
  if (!match) return Number.NaN;
  const [, h = '0', m = '0', s = '0'] = match;
  return ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000;
}

export const dockerBuildSchema = z.strictObject({
  type: z.literal('docker'),
  context: described(workspacePath('build.context'), 'Docker build context, relative to the workspace root.'),
  dockerfile: described(z.optional(workspacePath('build.dockerfile')), 'Dockerfile path; default <context>/Dockerfile.'),
  platforms: described(z.optional(z.array(nonEmpty('platform')).check(z.minLength(1))), 'e.g. ["linux/amd64", "linux/arm64"].'),
  engine: described(
    z.optional(z.enum(['docker', 'podman', 'buildah'])),
    'The engine that builds and pushes: "docker" (docker buildx), "podman" or "buildah". Default: docker when buildx and a daemon answer, else podman, else buildah. SLIPWAY_BUILD_ENGINE overrides it.',
  ),
  timeout: described(
    z.optional(
      z
        .string()
        .check(z.regex(BUILD_TIMEOUT, 'a duration such as "90s", "45m" or "1h30m"'), z.refine((t) => durationMs(t) > 0, 'must be longer than 0s')),
    ),
    'Deadline of the whole build and push, e.g. "45m", "1h30m"; default "60m". The engine and every process it started are stopped when it passes.',
  ),
});

// os/architecture[/variant] as OCI platforms spell them: "linux/amd64", "linux/arm/v7".
const PLATFORM = /^[a-z0-9][a-z0-9._-]*\/[a-z0-9][a-z0-9._-]*(?:\/[a-z0-9][a-z0-9._-]*)?$/;
// Docker's EXPOSE syntax: a port, optionally /tcp, /udp or /sctp (tcp when left out).
const EXPOSED_PORT = /^(?:[1-9]\d{0,3}|[1-5]\d{4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5])(?:\/(?:tcp|udp|sctp))?$/;
/** Labels the layer builder writes itself from the commit, the version and the base: services.json may not set them. */
export const LAYER_PROVENANCE_LABELS = [
  'org.opencontainers.image.created',
  'org.opencontainers.image.source',
  'org.opencontainers.image.revision',
  'org.opencontainers.image.version',
  'org.opencontainers.image.base.name',
  'org.opencontainers.image.base.digest',
] as const;

const uniqueStrings = (what: string) => (list: readonly string[], ctx: z.core.$RefinementCtx<string[]>) => {
  for (const [i, item] of list.entries()) {
    if (list.indexOf(item) !== i) ctx.addIssue({ code: 'custom', path: [i], input: item, message: `${what} "${item}" is listed twice` });
  }
};

export const layerBuildSchema = z.strictObject({
  type: z.literal('layer'),
  from: described(nonEmpty('build.from'), 'Base image reference, or "scratch".'),
  dir: described(workspacePath('build.dir'), 'Folder appended as one reproducible layer.'),
  platforms: described(
    z.optional(
      z
        .array(z.string().check(z.regex(PLATFORM, 'must be os/architecture[/variant], e.g. "linux/amd64" or "linux/arm/v7"')))
        .check(z.minLength(1), z.superRefine(uniqueStrings('platform'))),
    ),
    'Platforms to build, e.g. ["linux/amd64", "linux/arm64"]; default: every platform the base image offers (linux/amd64 on scratch). One platform gives an image manifest, several an OCI index; the layer is the same in each.',
  ),
  entrypoint: described(
    z.optional(z.array(z.string()).check(z.minLength(1))),
    'Image entrypoint, e.g. ["node", "/app/server.js"]; default: the base image\'s (none on scratch).',
  ),
  cmd: described(
    z.optional(z.array(z.string())),
    'Arguments to the entrypoint (the image\'s Cmd), e.g. ["server.js"]; [] clears the base\'s. Default: the base\'s, dropped when entrypoint is set.',
  ),
  env: described(
    z.optional(z.record(z.string().check(z.regex(/^[^=\s]+$/, 'environment variable names are not empty and hold no "=" or space')), z.string())),
    'Environment variables, e.g. {"NODE_ENV": "production"}; added to the base\'s, replacing those of the same name.',
  ),
  workingDir: described(
    z.optional(nonEmpty('build.workingDir').check(z.refine((p) => p.startsWith('/'), { message: 'build.workingDir must be an absolute path in the image, e.g. "/app"' }))),
    'Working directory of the entrypoint, an absolute path; default: the base\'s.',
  ),
  user: described(
    z.optional(nonEmpty('build.user').check(z.regex(/^[^:\s]+(?::[^:\s]+)?$/, 'build.user must be user or user:group (names or ids), e.g. "1000" or "node:node"'))),
    'User (and group) the entrypoint runs as, e.g. "1000" or "node:node"; default: the base\'s.',
  ),
  labels: described(
    z.optional(
      z.record(
        z.string().check(
          z.minLength(1, 'label keys must not be empty'),
          z.refine((k) => !(LAYER_PROVENANCE_LABELS as readonly string[]).includes(k), {
            message: `is written by slipway from the commit, version and base (${LAYER_PROVENANCE_LABELS.map((l) => l.replace('org.opencontainers.image.', '')).join(', ')}); leave it out`,
          }),
        ),
        z.string(),
      ),
    ),
    'Image config labels, e.g. {"org.opencontainers.image.description": "API"}. Slipway writes created, source, revision, version and base.* itself.',
  ),
  exposedPorts: described(
    z.optional(
      z
        .array(z.string().check(z.regex(EXPOSED_PORT, 'must be port or port/protocol, e.g. "8080/tcp" (port 1-65535, protocol tcp, udp or sctp)')))
        .check(z.superRefine(uniqueStrings('port'))),
    ),
    'Ports the image declares, e.g. ["8080/tcp"]; added to the base\'s.',
  ),
  prefix: described(z.optional(z.string()), 'Where the folder lands in the image; default "app/".'),
});

export const prebuiltBuildSchema = z.strictObject({
  type: z.literal('prebuilt'),
  from: described(nonEmpty('build.from'), 'Template of the image CI already built for this commit, e.g. "{image}:sha-{sha7}". Never a mutable tag.'),
});

export const buildSchema = z.discriminatedUnion('type', [dockerBuildSchema, layerBuildSchema, prebuiltBuildSchema]);

// A tag prefix as @slipway/tag's tagPrefixProblem reads it (apps/release/src/tag-prefix.test.ts keeps them in step):
// path-shaped and ending in "/" (the version follows as vX.Y.Z), or for npm services a package
// name and "@" (changesets-style `@scope/pkg@1.2.3`).
const PREFIX_COMPONENT = /^[A-Za-z0-9_@-](?:[A-Za-z0-9._@-]*[A-Za-z0-9_@-])?$/;
const NPM_PREFIX = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*@$/;

export function tagPrefixIssue(prefix: string, kind: 'image' | 'npm'): string | undefined {
  if (prefix.endsWith('@')) {
    if (kind !== 'npm') return 'a prefix ending in "@" (changesets-style "<package>@1.2.3" tags) is only for kind "npm" services';
    return NPM_PREFIX.test(prefix) ? undefined : 'must be an npm package name and "@", e.g. "@acme/cli@"';
  }
  const components = prefix.split('/');
  const valid =
    prefix.endsWith('/') && components.slice(0, -1).every((c) => PREFIX_COMPONENT.test(c) && !c.includes('..') && !c.endsWith('.lock'));
  return valid ? undefined : 'must be a path ending in "/" whose folders git accepts in a tag name, e.g. "api/" or "instrumentation/net/http/otelhttp/"';
}

const PRERELEASE_FROM = ['main', 'any-branch'] as const;

export const IMAGE_TAG_EXTRAS = ['X.Y.Z', 'X.Y', 'X', 'latest'] as const;

export const serviceSchema = z.strictObject({
  project: described(z.optional(nonEmpty('project')), 'Nx project holding the code; default: the service name.'),
  root: described(z.optional(workspacePath('root')), 'Folder of the code; default: from the Nx project graph.'),
  roots: described(
    z.optional(z.array(workspacePath('roots[]')).check(z.minLength(1))),
    'Folders of the code when it spans several (e.g. ["services/api", "pkg", "internal"]); instead of root. Every commit touching one of them counts for the service.',
  ),
  kind: described(z._default(z.enum(['image', 'npm']), 'image'), '"image" (default) or "npm" (published with npm, no image).'),
  image: described(z.optional(nonEmpty('image')), 'Image repository; default <registry>/<service>.'),
  build: z.optional(buildSchema),
  imageTags: described(
    z.optional(z.array(z.enum(IMAGE_TAG_EXTRAS))),
    'Extra tags for a stable release besides vX.Y.Z: "X.Y.Z", "X.Y", "X", "latest". Prereleases never get them.',
  ),
  makeLatest: described(z._default(z.boolean(), false), "Whether this service's stable releases become the repository's \"Latest\" GitHub release."),
  tagPrefix: described(
    z.optional(nonEmpty('tagPrefix')),
    'per-service scheme: what the service\'s tags start with; default "<service>/". A path ending in "/" (tags <prefix>vX.Y.Z, e.g. "instrumentation/net/http/otelhttp/"), or for kind "npm" a package name and "@" (changesets-style tags "@acme/cli@1.2.3").',
  ),
  prereleaseFrom: described(z.optional(z.enum(PRERELEASE_FROM)), 'Overrides the top-level prereleaseFrom for this service.'),
});

export const environmentSchema = z.strictObject({
  after: described(z.optional(envName), 'The environment a digest must be in before it can come here.'),
  approvals: described(z.optional(z.int().check(z.minimum(0))), 'How many distinct approvers a promotion needs.'),
  approvers: described(z.optional(z.array(nonEmpty('approver'))), 'Who may approve; names outside this list do not count.'),
});

export const pinsSchema = z.strictObject({
  repo: described(z._default(nonEmpty('pins.repo'), '.'), 'GitOps checkout: "." (this repo), a path, or a git URL.'),
  path: described(z._default(nonEmpty('pins.path'), 'deploy/{environment}/{service}.yaml'), 'Pin file path template: {environment}, {service}.'),
  format: z._default(z.enum(['pin', 'helm', 'kustomize']), 'pin'),
});

export const dispatchSchema = z.strictObject({
  eventType: described(z._default(nonEmpty('dispatch.eventType'), 'slipway-deploy'), 'repository_dispatch event type.'),
  repository: described(z.optional(z.string().check(z.regex(/^[\w.-]+\/[\w.-]+$/, 'must be "owner/name"'))), 'Default: repository.'),
});

export const servicesFileSchema = z
  .strictObject({
    $schema: z.optional(z.string()),
    repository: described(
      z.optional(z.string().check(z.regex(/^[\w.-]+\/[\w.-]+$/, 'must be a GitHub "owner/name"'))),
      'GitHub owner/name; omit to run without GitHub.',
    ),
    mainBranch: z._default(nonEmpty('mainBranch'), 'main'),
    scheme: z._default(z.enum(['per-service', 'single', 'staging-line']), 'per-service'),
    prereleaseFrom: described(
      z._default(z.enum(PRERELEASE_FROM), 'main'),
      'Where prerelease tags may point: "main" (reachable from origin/<mainBranch>, like every release) or "any-branch" (canaries from feature branches). Stable releases are main-only whatever this says.',
    ),
    registry: described(
      z._default(nonEmpty('registry'), 'oci-layout:.slipway/images'),
      'Default image = <registry>/<service>. "oci-layout:<dir>" stores images on disk (the embedded default).',
    ),
    insecureRegistries: described(z._default(z.array(nonEmpty('host')), []), 'Hosts spoken to over plain http.'),
    environments: described(z._default(z.record(envName, environmentSchema), {}), 'Promotion chain, in order.'),
    pins: z._default(pinsSchema, { repo: '.', path: 'deploy/{environment}/{service}.yaml', format: 'pin' }),
    dispatch: described(z.optional(dispatchSchema), 'Send a repository_dispatch with the digest when a deploying tag is published.'),
    changelog: z.optional(
      z.strictObject({ path: described(nonEmpty('changelog.path'), 'Per-version notes file, e.g. docs/development/CHANGELOGS/{version}.md') }),
    ),
    services: z.record(serviceName, serviceSchema).check(z.refine((s) => Object.keys(s).length > 0, 'at least one service is needed')),
  })
  .check(
    z.superRefine((config, ctx) => {
      for (const [name, env] of Object.entries(config.environments)) {
        if (env.after !== undefined && !Object.hasOwn(config.environments, env.after)) {
          ctx.addIssue({
            code: 'custom',
            path: ['environments', name, 'after'],
            input: env.after,
            message: `unknown environment "${env.after}" (known: ${Object.keys(config.environments).join(', ')})`,
          });
        }
        if (env.approvers && env.approvals !== undefined && env.approvals > env.approvers.length) {
          ctx.addIssue({
            code: 'custom',
            path: ['environments', name, 'approvals'],
            input: env.approvals,
            message: `needs ${env.approvals} approvals but lists only ${env.approvers.length} approver(s)`,
          });
        }
      }
      const cycle = findAfterCycle(config.environments);
      if (cycle?.[0] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['environments', cycle[0], 'after'],
          input: own(config.environments, cycle[0])?.after,
          message: `environments form a cycle: ${cycle.join(' → ')}`,
        });
      }
      const prefixes = new Map<string, string>();
      for (const [name, service] of Object.entries(config.services)) {
        if (service.root !== undefined && service.roots !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['services', name, 'roots'], input: service.roots, message: 'give "root" or "roots", not both' });
        }
        if (service.tagPrefix !== undefined) {
          const issue = config.scheme !== 'per-service' ? `only the per-service scheme has per-service tags (scheme is "${config.scheme}")` : tagPrefixIssue(service.tagPrefix, service.kind);
          if (issue !== undefined) ctx.addIssue({ code: 'custom', path: ['services', name, 'tagPrefix'], input: service.tagPrefix, message: issue });
        }
        const prefix = service.tagPrefix ?? `${name}/`;
        const other = prefixes.get(prefix);
        if (other !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['services', name, 'tagPrefix'], input: prefix, message: `"${prefix}" is already the tag prefix of ${other}; each service needs its own` });
        }
        prefixes.set(prefix, name);
        if (service.kind === 'npm' && service.build) {
          ctx.addIssue({
            code: 'custom',
            path: ['services', name, 'build'],
            input: service.build,
            message: 'an npm service is published with npm and has no image build',
          });
        }
        if (service.kind === 'npm' && service.image) {
          ctx.addIssue({ code: 'custom', path: ['services', name, 'image'], input: service.image, message: 'an npm service has no image' });
        }
      }
    }),
  );

function findAfterCycle(environments: Record<string, { after?: string | undefined }>): string[] | undefined {
  for (const start of Object.keys(environments)) {
    const seen = [start];
    let next = own(environments, start)?.after;
    while (next !== undefined && Object.hasOwn(environments, next)) {
      if (next === start) return [...seen, next];
      if (seen.includes(next)) break;
      seen.push(next);
      next = own(environments, next)?.after;
    }
  }
  return undefined;
}

export type ServicesFileInput = z.input<typeof servicesFileSchema>;
export type ServicesFile = z.output<typeof servicesFileSchema>;
export type ServiceConfig = z.output<typeof serviceSchema>;
export type EnvironmentConfig = z.output<typeof environmentSchema>;
export type BuildConfig = z.output<typeof buildSchema>;
export type Scheme = ServicesFile['scheme'];
