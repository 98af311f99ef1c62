// The `docker` builder (CONTRACT §1 build.type "docker"): a Dockerfile built and pushed by the
// engine the machine has. `docker buildx build --push` reports the pushed digest in its metadata
// file (`containerimage.digest`); podman and buildah build into local storage, then push each tag
// and write the digest the registry got into `--digestfile`. A local image ID is never a digest:
// it names the config, and the registry's manifest digest differs.

import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CredentialSource } from '../credentials.js';
import { parseImageRef } from '../image-ref.js';
import { processRunner, type CommandResult, type CommandRunner, type RunOptions } from './engine-process.js';
import { BuildError } from './errors.js';

export { processRunner, OUTPUT_TAIL_BYTES, type CommandResult, type CommandRunner, type RunOptions } from './engine-process.js';

/** The engines the docker builder drives. */
export type BuildEngine = 'docker' | 'podman' | 'buildah';
export const BUILD_ENGINES: readonly BuildEngine[] = ['docker', 'podman', 'buildah'];

/** The whole build and push, all steps together: generous, a cold multi-platform build is slow. */
export const DEFAULT_BUILD_TIMEOUT_MS = 60 * 60 * 1000;
/** Each detection probe (`docker buildx version`, `docker version`, `podman --version`). */
const PROBE_TIMEOUT_MS = 15_000;
/** Removing the local build name after the pushes, at the least. */
const CLEANUP_TIMEOUT_MS = 10_000;

export interface DockerBuildOptions {
  /** The build context folder. */
  context: string;
  dockerfile?: string;
  /** Image name without tag: `ghcr.io/acme/api`. */
  image: string;
  /** Bare tags (`v1.2.3`, `sha-1a2b3c4`); at least one. */
  tags: readonly string[];
  /** `linux/amd64`, `linux/arm64`, …; omitted → the engine's default platform. */
  platforms?: readonly string[];
  labels?: Readonly<Record<string, string>>;
  /** Manifest annotations (`--annotation`; buildx ≥ 0.12, podman, buildah). */
  annotations?: Readonly<Record<string, string>>;
  buildArgs?: Readonly<Record<string, string>>;
  /**
   * Seconds since the epoch for the image's `created` (pass the commit time): podman/buildah
   * `--timestamp` (also every file's mtime, so the build is repeatable), buildx the
   * `SOURCE_DATE_EPOCH` build argument. Omitted: the engine's clock.
   */
  sourceDateEpoch?: number;
  /** Which engine builds; default: detected (`detectBuildEngine`). */
  engine?: BuildEngine;
  /** The engine's program; default its name, found on PATH. */
  program?: string;
  /** Total deadline of the build and every push, in milliseconds. Default 60 minutes. */
  timeoutMs?: number;
  /** The engine's whole environment (storage and isolation settings live there); default this process's. */
  env?: Record<string, string | undefined>;
  /** podman/buildah: registries spoken to without TLS verification (services.json `insecureRegistries`). */
  insecureHosts?: readonly string[];
  /**
   * podman/buildah: credentials for the target registry and the Dockerfile's base images, handed to
   * the engine in an auth file in a private temporary folder (never on its command line). docker
   * uses its own login.
   */
  credentials?: CredentialSource;
  /** The command runner; default runs the real program (`processRunner`). */
  run?: CommandRunner;
  /** Folder for the metadata, digest and auth files. Default the OS temp folder. */
  tempDir?: string;
}

export interface DockerBuildResult {
  /** The pushed manifest or index, as the registry holds it under every tag. */
  digest: string;
  image: string;
  tags: string[];
  engine: BuildEngine;
  /** docker buildx's metadata file; empty for podman and buildah. */
  metadata: Record<string, unknown>;
}

const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

function checkTags(options: Pick<DockerBuildOptions, 'image' | 'tags'>): void {
  if (options.tags.length === 0) throw new BuildError('docker', 'E_BUILD_INPUT', `docker build of ${options.image} needs at least one tag`);
  for (const tag of options.tags) {
    if (!TAG_RE.test(tag)) throw new BuildError('docker', 'E_BUILD_INPUT', `invalid image tag ${JSON.stringify(tag)} for ${options.image}`);
  }
}

/** `--build-arg`, `--label` and `--annotation` pairs, each sorted by name. */
function buildFlags(options: Pick<DockerBuildOptions, 'buildArgs' | 'labels' | 'annotations'>): string[] {
  const args: string[] = [];
  for (const [name, value] of sortedEntries(options.buildArgs)) args.push('--build-arg', `${name}=${value}`);
  for (const [name, value] of sortedEntries(options.labels)) args.push('--label', `${name}=${value}`);
  for (const [name, value] of sortedEntries(options.annotations)) args.push('--annotation', `${name}=${value}`);
  return args;
}

function checkEpoch(options: Pick<DockerBuildOptions, 'sourceDateEpoch' | 'image'>): void {
  const epoch = options.sourceDateEpoch;
  if (epoch !== undefined && !(Number.isSafeInteger(epoch) && epoch >= 0)) {
    throw new BuildError('docker', 'E_BUILD_INPUT', `sourceDateEpoch for ${options.image} must be whole seconds since 1970, got ${epoch}`);
  }
}

/** The arguments after `docker`, in a stable order (labels and build args sorted by name). */
export function dockerBuildArgs(options: DockerBuildOptions, metadataFile: string): string[] {
  checkTags(options);
  checkEpoch(options);
  const args = ['buildx', 'build', '--push', '--metadata-file', metadataFile];
  if (options.sourceDateEpoch !== undefined) args.push('--build-arg', `SOURCE_DATE_EPOCH=${options.sourceDateEpoch}`);
  if (options.dockerfile !== undefined) args.push('--file', options.dockerfile);
  if (options.platforms && options.platforms.length > 0) args.push('--platform', options.platforms.join(','));
  args.push(...buildFlags(options));
  for (const tag of options.tags) args.push('-t', `${options.image}:${tag}`);
  args.push(options.context);
  return args;
}

export interface OciEngineCommands {
  /** Builds into local storage under `localName`: an image, or a manifest list for several platforms. */
  build: string[];
  /** Pushes `localName` to one tag, writing the registry's digest to `digestFile`. */
  push(tag: string, digestFile: string): string[];
  /** Removes `localName` from local storage. */
  cleanup: string[];
}

export interface OciEngineArgsOptions extends DockerBuildOptions {
  /** The local storage name, unique per build: a manifest list of the same name would be appended to. */
  localName: string;
  /** TLS verification off for the build's pulls: a base image comes from an insecure registry. */
  insecurePull?: boolean;
  /** TLS verification off for the pushes: the target registry is insecure. */
  insecurePush?: boolean;
  authFile?: string;
}

/** The podman/buildah command lines (the two take the same flags for these steps). */
export function ociEngineArgs(options: OciEngineArgsOptions): OciEngineCommands {
  checkTags(options);
  const multi = (options.platforms?.length ?? 0) > 1;
  const auth = options.authFile === undefined ? [] : ['--authfile', options.authFile];
  checkEpoch(options);
  const build = ['build', ...(options.insecurePull ? ['--tls-verify=false'] : []), ...auth];
  if (options.sourceDateEpoch !== undefined) build.push('--timestamp', String(options.sourceDateEpoch));
  if (options.dockerfile !== undefined) build.push('--file', options.dockerfile);
  if (options.platforms && options.platforms.length > 0) build.push('--platform', options.platforms.join(','));
  build.push(...buildFlags(options), multi ? '--manifest' : '--tag', options.localName, options.context);
  const tls = options.insecurePush ? ['--tls-verify=false'] : [];
  return {
    build,
    push: (tag, digestFile) => [
      ...(multi ? ['manifest', 'push', '--all'] : ['push']),
      ...tls,
      ...auth,
      '--digestfile',
      digestFile,
      options.localName,
      `docker://${options.image}:${tag}`,
    ],
    cleanup: multi ? ['manifest', 'rm', options.localName] : ['rmi', options.localName],
  };
}

/** Read the digest from a `--metadata-file` document. */
export function parseBuildMetadata(text: string): { digest: string; metadata: Record<string, unknown> } {
  let metadata: unknown;
  try {
    metadata = JSON.parse(text);
  } catch (cause) {
    throw new BuildError('docker', 'E_BUILD_OUTPUT', 'docker buildx metadata file is not JSON', { cause });
  }
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new BuildError('docker', 'E_BUILD_OUTPUT', 'docker buildx metadata file is not a JSON object');
  }
  const record = metadata as Record<string, unknown>;
  const digest = record['containerimage.digest'];
  if (typeof digest !== 'string' || !DIGEST_RE.test(digest)) {
    throw new BuildError('docker', 'E_BUILD_OUTPUT', 'docker buildx metadata file has no containerimage.digest; was the image pushed (--push)?');
  }
  return { digest, metadata: record };
}

/**
 * The images a Dockerfile's `FROM` lines name, without `scratch`, earlier stages and references
 * built from ARGs (those are resolved by the engine): whose registries need credentials or TLS
 * settings for the build's pulls.
 */
export function dockerfileBaseImages(text: string): string[] {
  const stages = new Set<string>();
  const images: string[] = [];
  // Line continuations join a FROM spread over several lines.
  for (const line of text.replace(/\\\r?\n/g, ' ').split(/\r?\n/)) {
    const match = /^\s*FROM\s+((?:--\S+\s+)*)(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (!match) continue;
    const image = match[2] ?? '';
    if (image.toLowerCase() !== 'scratch' && !stages.has(image.toLowerCase()) && !image.includes('$')) images.push(image);
    if (match[3] !== undefined) stages.add(match[3].toLowerCase());
  }
  return images;
}

export interface DetectBuildEngineOptions {
  run?: CommandRunner;
  env?: Record<string, string | undefined>;
  /** Programs by engine; default their names on PATH. */
  programs?: Partial<Record<BuildEngine, string>>;
}

/**
 * The engine to build with, in a fixed order: docker when `docker buildx version` succeeds and a
 * daemon answers `docker version`; else podman when installed; else buildah when installed.
 * Throws E_BUILD_TOOL_MISSING naming what each probe found when none is usable.
 */
export async function detectBuildEngine(options: DetectBuildEngineOptions = {}): Promise<{ engine: BuildEngine; program: string; tried: string[] }> {
  const run = options.run ?? processRunner;
  const tried: string[] = [];
  const probe = async (program: string, args: string[]): Promise<'ok' | 'missing' | 'failed'> => {
    try {
      const result = await run(program, args, { ...(options.env ? { env: options.env } : {}), timeoutMs: PROBE_TIMEOUT_MS });
      return result.exitCode === 0 && result.timedOut !== true ? 'ok' : 'failed';
    } catch (error) {
      return (error as { code?: unknown }).code === 'ENOENT' ? 'missing' : 'failed';
    }
  };
  const docker = options.programs?.docker ?? 'docker';
  const buildx = await probe(docker, ['buildx', 'version']);
  if (buildx === 'ok') {
    if ((await probe(docker, ['version', '--format', '{{.Server.Version}}'])) === 'ok') return { engine: 'docker', program: docker, tried: [...tried, 'docker'] };
    tried.push('docker (buildx is installed, but no docker daemon answers)');
  } else {
    tried.push(buildx === 'missing' ? 'docker (not installed)' : 'docker (installed without buildx)');
  }
  for (const engine of ['podman', 'buildah'] as const) {
    const program = options.programs?.[engine] ?? engine;
    const found = await probe(program, ['--version']);
    if (found === 'ok') return { engine, program, tried: [...tried, engine] };
    tried.push(`${engine} (${found === 'missing' ? 'not installed' : '`--version` failed'})`);
  }
  throw new BuildError('docker', 'E_BUILD_TOOL_MISSING', `no container build engine found: tried ${tried.join(', ')}. Install docker with buildx, podman or buildah`);
}

/** Build and push; returns the digest the registry holds under every tag. */
export async function dockerBuild(options: DockerBuildOptions): Promise<DockerBuildResult> {
  checkTags(options);
  const run = options.run ?? processRunner;
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS);
  let engine = options.engine;
  let program = options.program;
  if (engine === undefined) {
    const detected = await detectBuildEngine({ run, ...(options.env ? { env: options.env } : {}) });
    engine = detected.engine;
    program ??= detected.program;
  }
  const step = new EngineSteps(engine, program ?? engine, run, options, deadline);
  const folder = await mkdtemp(join(options.tempDir ?? tmpdir(), 'slipway-build-'));
  try {
    if (engine === 'docker') {
      const metadataFile = join(folder, 'metadata.json');
      await step.run('buildx build', dockerBuildArgs(options, metadataFile));
      const text = await readFile(metadataFile, 'utf8').catch((cause: unknown) => {
        throw new BuildError('docker', 'E_BUILD_OUTPUT', `docker buildx build wrote no metadata file at ${metadataFile}`, { cause });
      });
      const { digest, metadata } = parseBuildMetadata(text);
      return { digest, image: options.image, tags: [...options.tags], engine, metadata };
    }
    return { ...(await ociEngineBuild(step, options, folder)), image: options.image, tags: [...options.tags], engine, metadata: {} };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

async function ociEngineBuild(step: EngineSteps, options: DockerBuildOptions, folder: string): Promise<{ digest: string }> {
  const targetHost = parseImageRef(options.image).registry;
  const insecure = new Set(options.insecureHosts ?? []);
  const dockerfile = options.dockerfile ?? join(options.context, 'Dockerfile');
  const baseHosts = (await readFile(dockerfile, 'utf8').then(dockerfileBaseImages, () => [])).flatMap((ref) => {
    try {
      return [parseImageRef(ref).registry];
    } catch {
      return [];
    }
  });
  const authFile = await writeAuthFile(folder, [targetHost, ...baseHosts], options);
  const commands = ociEngineArgs({
    ...options,
    localName: `localhost/slipway-build-${randomBytes(6).toString('hex')}`,
    insecurePull: baseHosts.some((host) => insecure.has(host)),
    insecurePush: insecure.has(targetHost),
    ...(authFile ? { authFile } : {}),
  });
  let built = false;
  try {
    await step.run('build', commands.build);
    built = true;
    let digest: string | undefined;
    for (const [i, tag] of options.tags.entries()) {
      const digestFile = join(folder, `digest-${i}`);
      await step.run(`push ${options.image}:${tag}`, commands.push(tag, digestFile));
      const pushed = (await readFile(digestFile, 'utf8').catch(() => '')).trim();
      if (!DIGEST_RE.test(pushed)) {
        throw new BuildError('docker', 'E_BUILD_OUTPUT', `${step.engine} push of ${options.image}:${tag} wrote no digest to its --digestfile`);
      }
      if (digest !== undefined && pushed !== digest) {
        throw new BuildError('docker', 'E_BUILD_OUTPUT', `${step.engine} pushed ${options.image}:${tag} as ${pushed} but ${options.image}:${options.tags[0]} as ${digest}: one build must give one digest`);
      }
      digest = pushed;
    }
    if (digest === undefined) throw new BuildError('docker', 'E_BUILD_OUTPUT', `${step.engine} pushed nothing`);
    return { digest };
  } finally {
    // Local storage is the engine's cache, not the artifact: leave no slipway-build-* names behind.
    // (A build that failed or was stopped named nothing.)
    if (built) await step.cleanup(commands.cleanup);
  }
}

/**
 * An auth file (containers-auth.json, the format `podman login` writes) holding the credentials
 * the registry client would use for `hosts`, over the user's own auth file so its other entries
 * still apply; undefined when there are none to add (the engine then reads its usual files).
 */
async function writeAuthFile(folder: string, hosts: readonly string[], options: DockerBuildOptions): Promise<string | undefined> {
  if (!options.credentials) return undefined;
  const auths: Record<string, { auth: string }> = {};
  for (const host of new Set(hosts)) {
    const found = await options.credentials(host);
    if (found) auths[host] = { auth: Buffer.from(`${found.username}:${found.password}`).toString('base64') };
  }
  if (Object.keys(auths).length === 0) return undefined;
  const env = options.env ?? process.env;
  const own = env['REGISTRY_AUTH_FILE'] ?? (env['XDG_RUNTIME_DIR'] ? join(env['XDG_RUNTIME_DIR'], 'containers', 'auth.json') : undefined);
  let base: Record<string, unknown> = {};
  if (own !== undefined) {
    try {
      const parsed: unknown = JSON.parse(await readFile(own, 'utf8'));
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) base = parsed as Record<string, unknown>;
    } catch {
      // none, or unreadable: the engine would not have used it either
    }
  }
  const path = join(folder, 'auth.json');
  const existing = typeof base['auths'] === 'object' && base['auths'] !== null ? (base['auths'] as Record<string, unknown>) : {};
  await writeFile(path, JSON.stringify({ ...base, auths: { ...existing, ...auths } }), { mode: 0o600 });
  await chmod(path, 0o600);
  return path;
}

/** One engine's steps under the build's total deadline, each failure a BuildError naming the step. */
class EngineSteps {
  constructor(
    readonly engine: BuildEngine,
    private readonly program: string,
    private readonly runner: CommandRunner,
    private readonly options: DockerBuildOptions,
    private readonly deadline: number,
  ) {}

  private runOptions(timeoutMs: number): RunOptions {
    return { ...(this.options.env ? { env: this.options.env } : {}), timeoutMs };
  }

  async run(what: string, args: readonly string[]): Promise<CommandResult> {
    const remaining = this.deadline - Date.now();
    const budget = this.options.timeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS;
    if (remaining <= 0) throw this.timeout(what, budget, undefined);
    let result: CommandResult;
    try {
      result = await this.runner(this.program, args, this.runOptions(remaining));
    } catch (cause) {
      if ((cause as { code?: unknown }).code === 'ENOENT') {
        throw new BuildError(
          'docker',
          'E_BUILD_TOOL_MISSING',
          `${this.program} not found: the ${this.engine} engine was chosen for this build but is not installed (or not on PATH)`,
          { cause },
        );
      }
      throw new BuildError('docker', 'E_BUILD_FAILED', `${this.engine} ${what} could not start: ${(cause as Error).message}`, { cause });
    }
    if (result.timedOut) throw this.timeout(what, budget, result);
    if (result.exitCode !== 0) {
      // The log's tail holds the error. Arguments are left out: build args may hold secrets.
      const tail = logTail(result);
      throw new BuildError('docker', 'E_BUILD_FAILED', `${this.engine} ${what} of ${this.options.image} failed (exit ${result.exitCode})${tail ? `:\n${tail}` : ''}`);
    }
    return result;
  }

  async cleanup(args: readonly string[]): Promise<void> {
    try {
      // Removing a name is quick; past the deadline it still gets a few seconds, never minutes.
      await this.runner(this.program, args, this.runOptions(Math.max(CLEANUP_TIMEOUT_MS, Math.min(60_000, this.deadline - Date.now()))));
    } catch {
      // best effort: a build that failed may have left nothing to remove
    }
  }

  private timeout(what: string, budget: number, result: CommandResult | undefined): BuildError {
    const tail = result ? logTail(result) : '';
    return new BuildError(
      'docker',
      'E_BUILD_TIMEOUT',
      `${this.engine} ${what} of ${this.options.image} did not finish within the build deadline of ${formatDuration(budget)}: it and every process it started were stopped${tail ? `. Last output:\n${tail}` : ''}`,
    );
  }
}

function logTail(result: CommandResult): string {
  const text = (result.output ?? '').trim() || result.stderr.trim() || result.stdout.trim();
  return text.split('\n').slice(-20).join('\n');
}

/** `3600000` → `1h`, `90000` → `1m30s`, `1500` → `1.5s`. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(3))}s`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${hours ? `${hours}h` : ''}${minutes ? `${minutes}m` : ''}${seconds ? `${seconds}s` : ''}` || '0s';
}

function sortedEntries(record: Readonly<Record<string, string>> | undefined): [string, string][] {
  return Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
