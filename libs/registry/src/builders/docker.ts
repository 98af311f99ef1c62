// The `docker` builder (CONTRACT §1 build.type "docker"): `docker buildx build --push` with a
// metadata file, the pushed digest read from `containerimage.digest`. The command runner is a
// port so the app can stream output and tests can check the argument list without an engine.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { BuildError } from './errors.js';

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program to completion. Resolves with its exit code (non-zero included); rejects only when
 * the program cannot be started, with the spawn error (`code: 'ENOENT'` when it is not installed).
 */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<CommandResult>;

export const execaRunner: CommandRunner = async (file, args) => {
  try {
    const result = await execa(file, args, { stdin: 'ignore' });
    return { exitCode: result.exitCode ?? 0, stdout: String(result.stdout), stderr: String(result.stderr) };
  } catch (error) {
    const failure = error as { exitCode?: number; stdout?: unknown; stderr?: unknown };
    if (typeof failure.exitCode !== 'number') throw error;
    return { exitCode: failure.exitCode, stdout: String(failure.stdout ?? ''), stderr: String(failure.stderr ?? '') };
  }
};

export interface DockerBuildOptions {
  /** The build context folder. */
  context: string;
  dockerfile?: string;
  /** Image name without tag: `ghcr.io/acme/api`. */
  image: string;
  /** Bare tags (`v1.2.3`, `sha-1a2b3c4`); at least one. */
  tags: readonly string[];
  /** `linux/amd64`, `linux/arm64`, …; omitted → the builder's default platform. */
  platforms?: readonly string[];
  labels?: Readonly<Record<string, string>>;
  buildArgs?: Readonly<Record<string, string>>;
  /** The command runner; default runs the real program through execa. */
  run?: CommandRunner;
  /** The docker binary. Default `docker`. */
  docker?: string;
  /** Folder for the metadata file. Default the OS temp folder. */
  tempDir?: string;
}

export interface DockerBuildResult {
  /** `containerimage.digest`: the pushed manifest or index. */
  digest: string;
  image: string;
  tags: string[];
  metadata: Record<string, unknown>;
}

const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** The arguments after `docker`, in a stable order (labels and build args sorted by name). */
export function dockerBuildArgs(options: DockerBuildOptions, metadataFile: string): string[] {
  if (options.tags.length === 0) throw new BuildError('docker', 'E_BUILD_INPUT', `docker build of ${options.image} needs at least one tag`);
  for (const tag of options.tags) {
    if (!TAG_RE.test(tag)) throw new BuildError('docker', 'E_BUILD_INPUT', `invalid image tag ${JSON.stringify(tag)} for ${options.image}`);
  }
  const args = ['buildx', 'build', '--push', '--metadata-file', metadataFile];
  if (options.dockerfile !== undefined) args.push('--file', options.dockerfile);
  if (options.platforms && options.platforms.length > 0) args.push('--platform', options.platforms.join(','));
  for (const [name, value] of sortedEntries(options.buildArgs)) args.push('--build-arg', `${name}=${value}`);
  for (const [name, value] of sortedEntries(options.labels)) args.push('--label', `${name}=${value}`);
  for (const tag of options.tags) args.push('-t', `${options.image}:${tag}`);
  args.push(options.context);
  return args;
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

/** Build and push with `docker buildx build --push`; returns the pushed digest. */
export async function dockerBuild(options: DockerBuildOptions): Promise<DockerBuildResult> {
  const run = options.run ?? execaRunner;
  const docker = options.docker ?? 'docker';
  const folder = await mkdtemp(join(options.tempDir ?? tmpdir(), 'slipway-buildx-'));
  try {
    const metadataFile = join(folder, 'metadata.json');
    const args = dockerBuildArgs(options, metadataFile);
    let result: CommandResult;
    try {
      result = await run(docker, args);
    } catch (cause) {
      if ((cause as { code?: unknown }).code === 'ENOENT') {
        throw new BuildError('docker', 'E_BUILD_TOOL_MISSING', `${docker} not found: the docker builder needs Docker with buildx on PATH`, { cause });
      }
      throw new BuildError('docker', 'E_BUILD_FAILED', `${docker} buildx build could not start`, { cause });
    }
    if (result.exitCode !== 0) {
      // The build log is long; its tail holds the error. Arguments are left out: build args may hold secrets.
      const tail = result.stderr.trim().split('\n').slice(-20).join('\n');
      throw new BuildError('docker', 'E_BUILD_FAILED', `docker buildx build of ${options.image} failed (exit ${result.exitCode})${tail ? `:\n${tail}` : ''}`);
    }
    const text = await readFile(metadataFile, 'utf8').catch((cause: unknown) => {
      throw new BuildError('docker', 'E_BUILD_OUTPUT', `docker buildx build wrote no metadata file at ${metadataFile}`, { cause });
    });
    const { digest, metadata } = parseBuildMetadata(text);
    return { digest, image: options.image, tags: [...options.tags], metadata };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

function sortedEntries(record: Readonly<Record<string, string>> | undefined): [string, string][] {
  return Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
