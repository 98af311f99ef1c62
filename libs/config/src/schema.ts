import * as z from 'zod';
import { own } from './json-depth.js';

// The services.json schema of CONTRACT §1. Strict objects everywhere: a typo must fail loudly,
// not silently fall back to a default.

export const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const ENV_NAME = /^[a-z][a-z0-9-]{0,62}$/;

const serviceName = z
  .string()
  .regex(SERVICE_NAME, 'service names are lowercase letters, digits and "-", start with a letter, at most 63 characters');

const envName = z
  .string()
  .regex(ENV_NAME, 'environment names are lowercase letters, digits and "-", start with a letter, at most 63 characters');

const nonEmpty = (what: string) => z.string().min(1, `${what} must not be empty`);

// A relative path inside the workspace: no absolute paths, no escaping with "..".
const workspacePath = (what: string) =>
  nonEmpty(what).refine((p) => !p.startsWith('/') && !p.split(/[\\/]/).includes('..'), {
    message: `${what} must be a path inside the workspace (relative, no "..")`,
  });

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
  context: workspacePath('build.context').describe('Docker build context, relative to the workspace root.'),
  dockerfile: workspacePath('build.dockerfile').optional().describe('Dockerfile path; default <context>/Dockerfile.'),
  platforms: z.array(nonEmpty('platform')).min(1).optional().describe('e.g. ["linux/amd64", "linux/arm64"].'),
  engine: z
    .enum(['docker', 'podman', 'buildah'])
    .optional()
    .describe(
      'The engine that builds and pushes: "docker" (docker buildx), "podman" or "buildah". Default: docker when buildx and a daemon answer, else podman, else buildah. SLIPWAY_BUILD_ENGINE overrides it.',
    ),
  timeout: z
    .string()
    .regex(BUILD_TIMEOUT, 'a duration such as "90s", "45m" or "1h30m"')
    .refine((t) => durationMs(t) > 0, 'must be longer than 0s')
    .optional()
    .describe('Deadline of the whole build and push, e.g. "45m", "1h30m"; default "60m". The engine and every process it started are stopped when it passes.'),
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

const uniqueStrings = (what: string) => (list: readonly string[], ctx: z.RefinementCtx) => {
  for (const [i, item] of list.entries()) {
    if (list.indexOf(item) !== i) ctx.addIssue({ code: 'custom', path: [i], input: item, message: `${what} "${item}" is listed twice` });
  }
};

export const layerBuildSchema = z.strictObject({
  type: z.literal('layer'),
  from: nonEmpty('build.from').describe('Base image reference, or "scratch".'),
  dir: workspacePath('build.dir').describe('Folder appended as one reproducible layer.'),
  platforms: z
    .array(z.string().regex(PLATFORM, 'must be os/architecture[/variant], e.g. "linux/amd64" or "linux/arm/v7"'))
    .min(1)
    .superRefine(uniqueStrings('platform'))
    .optional()
    .describe(
      'Platforms to build, e.g. ["linux/amd64", "linux/arm64"]; default: every platform the base image offers (linux/amd64 on scratch). One platform gives an image manifest, several an OCI index; the layer is the same in each.',
    ),
  entrypoint: z
    .array(z.string())
    .min(1)
    .optional()
    .describe('Image entrypoint, e.g. ["node", "/app/server.js"]; default: the base image\'s (none on scratch).'),
  cmd: z
    .array(z.string())
    .optional()
    .describe('Arguments to the entrypoint (the image\'s Cmd), e.g. ["server.js"]; [] clears the base\'s. Default: the base\'s, dropped when entrypoint is set.'),
  env: z
    .record(z.string().regex(/^[^=\s]+$/, 'environment variable names are not empty and hold no "=" or space'), z.string())
    .optional()
    .describe('Environment variables, e.g. {"NODE_ENV": "production"}; added to the base\'s, replacing those of the same name.'),
  workingDir: nonEmpty('build.workingDir')
    .refine((p) => p.startsWith('/'), { message: 'build.workingDir must be an absolute path in the image, e.g. "/app"' })
    .optional()
    .describe('Working directory of the entrypoint, an absolute path; default: the base\'s.'),
  user: nonEmpty('build.user')
    .regex(/^[^:\s]+(?::[^:\s]+)?$/, 'build.user must be user or user:group (names or ids), e.g. "1000" or "node:node"')
    .optional()
    .describe('User (and group) the entrypoint runs as, e.g. "1000" or "node:node"; default: the base\'s.'),
  labels: z
    .record(
      z
        .string()
        .min(1, 'label keys must not be empty')
        .refine((k) => !(LAYER_PROVENANCE_LABELS as readonly string[]).includes(k), {
          message: `is written by slipway from the commit, version and base (${LAYER_PROVENANCE_LABELS.map((l) => l.replace('org.opencontainers.image.', '')).join(', ')}); leave it out`,
        }),
      z.string(),
    )
    .optional()
    .describe('Image config labels, e.g. {"org.opencontainers.image.description": "API"}. Slipway writes created, source, revision, version and base.* itself.'),
  exposedPorts: z
    .array(z.string().regex(EXPOSED_PORT, 'must be port or port/protocol, e.g. "8080/tcp" (port 1-65535, protocol tcp, udp or sctp)'))
    .superRefine(uniqueStrings('port'))
    .optional()
    .describe('Ports the image declares, e.g. ["8080/tcp"]; added to the base\'s.'),
  prefix: z.string().optional().describe('Where the folder lands in the image; default "app/".'),
});

export const prebuiltBuildSchema = z.strictObject({
  type: z.literal('prebuilt'),
  from: nonEmpty('build.from').describe(
    'Template of the image CI already built for this commit, e.g. "{image}:sha-{sha7}". Never a mutable tag.',
  ),
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
  project: nonEmpty('project').optional().describe('Nx project holding the code; default: the service name.'),
  root: workspacePath('root').optional().describe('Folder of the code; default: from the Nx project graph.'),
  roots: z
    .array(workspacePath('roots[]'))
    .min(1)
    .optional()
    .describe('Folders of the code when it spans several (e.g. ["services/api", "pkg", "internal"]); instead of root. Every commit touching one of them counts for the service.'),
  kind: z.enum(['image', 'npm']).default('image').describe('"image" (default) or "npm" (published with npm, no image).'),
  image: nonEmpty('image').optional().describe('Image repository; default <registry>/<service>.'),
  build: buildSchema.optional(),
  imageTags: z
    .array(z.enum(IMAGE_TAG_EXTRAS))
    .optional()
    .describe('Extra tags for a stable release besides vX.Y.Z: "X.Y.Z", "X.Y", "X", "latest". Prereleases never get them.'),
  makeLatest: z
    .boolean()
    .default(false)
    .describe("Whether this service's stable releases become the repository's \"Latest\" GitHub release."),
  tagPrefix: nonEmpty('tagPrefix')
    .optional()
    .describe(
      'per-service scheme: what the service\'s tags start with; default "<service>/". A path ending in "/" (tags <prefix>vX.Y.Z, e.g. "instrumentation/net/http/otelhttp/"), or for kind "npm" a package name and "@" (changesets-style tags "@acme/cli@1.2.3").',
    ),
  prereleaseFrom: z
    .enum(PRERELEASE_FROM)
    .optional()
    .describe('Overrides the top-level prereleaseFrom for this service.'),
});

export const environmentSchema = z.strictObject({
  after: envName.optional().describe('The environment a digest must be in before it can come here.'),
  approvals: z.int().min(0).optional().describe('How many distinct approvers a promotion needs.'),
  approvers: z.array(nonEmpty('approver')).optional().describe('Who may approve; names outside this list do not count.'),
});

export const pinsSchema = z.strictObject({
  repo: nonEmpty('pins.repo').default('.').describe('GitOps checkout: "." (this repo), a path, or a git URL.'),
  path: nonEmpty('pins.path')
    .default('deploy/{environment}/{service}.yaml')
    .describe('Pin file path template: {environment}, {service}.'),
  format: z.enum(['pin', 'helm', 'kustomize']).default('pin'),
});

export const dispatchSchema = z.strictObject({
  eventType: nonEmpty('dispatch.eventType').default('slipway-deploy').describe('repository_dispatch event type.'),
  repository: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be "owner/name"').optional().describe('Default: repository.'),
});

export const servicesFileSchema = z
  .strictObject({
    $schema: z.string().optional(),
    repository: z
      .string()
      .regex(/^[\w.-]+\/[\w.-]+$/, 'must be a GitHub "owner/name"')
      .optional()
      .describe('GitHub owner/name; omit to run without GitHub.'),
    mainBranch: nonEmpty('mainBranch').default('main'),
    scheme: z.enum(['per-service', 'single', 'staging-line']).default('per-service'),
    prereleaseFrom: z
      .enum(PRERELEASE_FROM)
      .default('main')
      .describe(
        'Where prerelease tags may point: "main" (reachable from origin/<mainBranch>, like every release) or "any-branch" (canaries from feature branches). Stable releases are main-only whatever this says.',
      ),
    registry: nonEmpty('registry')
      .default('oci-layout:.slipway/images')
      .describe('Default image = <registry>/<service>. "oci-layout:<dir>" stores images on disk (the embedded default).'),
    insecureRegistries: z.array(nonEmpty('host')).default([]).describe('Hosts spoken to over plain http.'),
    environments: z.record(envName, environmentSchema).default({}).describe('Promotion chain, in order.'),
    pins: pinsSchema.default({ repo: '.', path: 'deploy/{environment}/{service}.yaml', format: 'pin' }),
    dispatch: dispatchSchema.optional().describe('Send a repository_dispatch with the digest when a deploying tag is published.'),
    changelog: z
      .strictObject({ path: nonEmpty('changelog.path').describe('Per-version notes file, e.g. docs/development/CHANGELOGS/{version}.md') })
      .optional(),
    services: z.record(serviceName, serviceSchema).refine((s) => Object.keys(s).length > 0, 'at least one service is needed'),
  })
  .superRefine((config, ctx) => {
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
  });

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
