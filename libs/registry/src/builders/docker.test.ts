import { access, chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { BuildError } from './errors.js';
import { dockerBuild, dockerBuildArgs, parseBuildMetadata, type CommandRunner } from './docker.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

// What `docker buildx build --push --metadata-file` writes (buildx 0.12, image exporter).
const SAMPLE_METADATA = {
  'buildx.build.provenance': { buildType: 'https://mobyproject.org/buildkit@v1' },
  'buildx.build.ref': 'builder/builder0/kx1bz3yq8x2b2kd7bx6r1z0qy',
  'containerimage.config.digest': `sha256:${'cd'.repeat(32)}`,
  'containerimage.descriptor': { mediaType: 'application/vnd.oci.image.index.v1+json', digest: DIGEST, size: 856 },
  'containerimage.digest': DIGEST,
  'image.name': 'ghcr.io/acme/api:v1.2.3,ghcr.io/acme/api:sha-1a2b3c4',
};

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-docker-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A runner standing in for docker: records the call and writes the metadata file buildx would. */
function fakeBuildx(metadata: unknown, exitCode = 0, stderr = ''): { run: CommandRunner; calls: { file: string; args: readonly string[] }[] } {
  const calls: { file: string; args: readonly string[] }[] = [];
  const run: CommandRunner = async (file, args) => {
    calls.push({ file, args });
    const path = args[args.indexOf('--metadata-file') + 1] ?? '';
    if (exitCode === 0 && metadata !== undefined) await writeFile(path, typeof metadata === 'string' ? metadata : JSON.stringify(metadata));
    return { exitCode, stdout: '', stderr };
  };
  return { run, calls };
}

const base = {
  context: 'apps/api',
  image: 'ghcr.io/acme/api',
  tags: ['v1.2.3', 'sha-1a2b3c4'],
};

describe('dockerBuild', () => {
  it('runs docker buildx build --push with the metadata file, tags, labels and platforms, and returns containerimage.digest', async () => {
    const { run, calls } = fakeBuildx(SAMPLE_METADATA);
    const tempRoot = await tempDir();
    const result = await dockerBuild({
      ...base,
      dockerfile: 'apps/api/Dockerfile',
      platforms: ['linux/amd64', 'linux/arm64'],
      labels: { 'org.opencontainers.image.version': '1.2.3', 'org.opencontainers.image.revision': '1a2b3c4d' },
      buildArgs: { NODE_VERSION: '20' },
      run,
      tempDir: tempRoot,
    });
    expect(result).toMatchObject({ digest: DIGEST, image: 'ghcr.io/acme/api', tags: ['v1.2.3', 'sha-1a2b3c4'] });
    expect(calls).toHaveLength(1);
    const { file, args } = calls[0] ?? { file: '', args: [] };
    expect(file).toBe('docker');
    const metadataFile = args[4] ?? '';
    expect(metadataFile.startsWith(tempRoot)).toBe(true);
    expect(args).toEqual([
      'buildx', 'build', '--push',
      '--metadata-file', metadataFile,
      '--file', 'apps/api/Dockerfile',
      '--platform', 'linux/amd64,linux/arm64',
      '--build-arg', 'NODE_VERSION=20',
      '--label', 'org.opencontainers.image.revision=1a2b3c4d',
      '--label', 'org.opencontainers.image.version=1.2.3',
      '-t', 'ghcr.io/acme/api:v1.2.3',
      '-t', 'ghcr.io/acme/api:sha-1a2b3c4',
      'apps/api',
    ]);
    // The metadata file's folder is gone afterwards.
    await expect(access(metadataFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('runs a real program through the default runner (a docker stand-in script on disk)', async () => {
    const dir = await tempDir();
    const script = join(dir, 'docker');
    const argsLog = join(dir, 'args.txt');
    await writeFile(
      script,
      [
        '#!/bin/sh',
        `printf '%s\\n' "$@" > ${JSON.stringify(argsLog)}`,
        'while [ "$1" != "--metadata-file" ]; do shift; done',
        `printf '%s' '${JSON.stringify(SAMPLE_METADATA)}' > "$2"`,
      ].join('\n'),
    );
    await chmod(script, 0o755);
    const result = await dockerBuild({ ...base, docker: script, tempDir: dir });
    expect(result.digest).toBe(DIGEST);
    const args = (await readFile(argsLog, 'utf8')).trim().split('\n');
    expect(args.slice(0, 3)).toEqual(['buildx', 'build', '--push']);
    expect(args.at(-1)).toBe('apps/api');
  });

  it('says docker is missing when it cannot be found (operational, exit 1)', async () => {
    const error = await dockerBuild({ ...base, docker: join(tmpdir(), 'slipway-no-such-dir', 'docker') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildError);
    expect(error).toMatchObject({ code: 'E_BUILD_TOOL_MISSING', exitCode: 1, builder: 'docker' });
    expect((error as Error).message).toContain('not found');
    expect((error as Error & { cause: { code: string } }).cause.code).toBe('ENOENT');
  });

  it('reports a failed build with the tail of its log, without the arguments (build args may be secrets)', async () => {
    const { run } = fakeBuildx(undefined, 1, 'step 1\nstep 2\nERROR: failed to solve: process "/bin/sh -c npm ci" did not complete');
    const error = await dockerBuild({ ...base, buildArgs: { NPM_TOKEN: 's3cr3t' }, run }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'BuildError', code: 'E_BUILD_FAILED', exitCode: 1 });
    expect((error as Error).message).toContain('ERROR: failed to solve');
    expect((error as Error).message).not.toContain('s3cr3t');
  });

  it('fails clearly when the build wrote no metadata file or no digest', async () => {
    await expect(dockerBuild({ ...base, run: fakeBuildx(undefined).run })).rejects.toMatchObject({ code: 'E_BUILD_OUTPUT', exitCode: 1 });
    await expect(dockerBuild({ ...base, run: fakeBuildx({ 'buildx.build.ref': 'x' }).run })).rejects.toMatchObject({
      code: 'E_BUILD_OUTPUT',
      message: expect.stringContaining('containerimage.digest'),
    });
  });

  it('refuses a build without tags or with an invalid tag before running anything', () => {
    expect(() => dockerBuildArgs({ ...base, tags: [] }, '/tmp/m.json')).toThrow(expect.objectContaining({ code: 'E_BUILD_INPUT', exitCode: 2 }));
    expect(() => dockerBuildArgs({ ...base, tags: ['v1:2'] }, '/tmp/m.json')).toThrow(BuildError);
  });
});

describe('parseBuildMetadata', () => {
  it('reads containerimage.digest from a sample metadata file', () => {
    const { digest, metadata } = parseBuildMetadata(JSON.stringify(SAMPLE_METADATA, null, 2));
    expect(digest).toBe(DIGEST);
    expect(metadata['image.name']).toBe(SAMPLE_METADATA['image.name']);
  });

  it.each([['not json', '{'], ['an array', '[]'], ['a malformed digest', JSON.stringify({ 'containerimage.digest': 'sha256:abc' })]])(
    'refuses %s',
    (_what, text) => {
      expect(() => parseBuildMetadata(text)).toThrow(expect.objectContaining({ code: 'E_BUILD_OUTPUT' }));
    },
  );
});
