import { access, chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { processRunning } from '@slipway/testing';
import { BuildError } from './errors.js';
import { detectBuildEngine, dockerBuild, dockerBuildArgs, dockerfileBaseImages, ociEngineArgs, parseBuildMetadata, type CommandRunner } from './docker.js';

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
  engine: 'docker' as const,
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
    const result = await dockerBuild({ ...base, program: script, tempDir: dir });
    expect(result.digest).toBe(DIGEST);
    const args = (await readFile(argsLog, 'utf8')).trim().split('\n');
    expect(args.slice(0, 3)).toEqual(['buildx', 'build', '--push']);
    expect(args.at(-1)).toBe('apps/api');
  });

  it('says the chosen engine is missing when it cannot be found (exit 2: a retry cannot install it)', async () => {
    const error = await dockerBuild({ ...base, program: join(tmpdir(), 'slipway-no-such-dir', 'docker') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildError);
    expect(error).toMatchObject({ code: 'E_BUILD_TOOL_MISSING', exitCode: 2, builder: 'docker' });
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

describe('ociEngineArgs (podman and buildah)', () => {
  const options = {
    ...base,
    engine: 'buildah' as const,
    dockerfile: 'apps/api/Dockerfile',
    labels: { 'org.opencontainers.image.version': '1.2.3' },
    buildArgs: { NODE_VERSION: '20' },
    localName: 'localhost/slipway-build-0a1b',
  };

  it('one platform: build --tag into local storage, push each tag with --digestfile, rmi after', () => {
    const commands = ociEngineArgs({ ...options, platforms: ['linux/arm64'], insecurePush: true, authFile: '/tmp/x/auth.json' });
    expect(commands.build).toEqual([
      'build', '--authfile', '/tmp/x/auth.json',
      '--file', 'apps/api/Dockerfile',
      '--platform', 'linux/arm64',
      '--build-arg', 'NODE_VERSION=20',
      '--label', 'org.opencontainers.image.version=1.2.3',
      '--tag', 'localhost/slipway-build-0a1b',
      'apps/api',
    ]);
    expect(commands.push('v1.2.3', '/tmp/x/d0')).toEqual([
      'push', '--tls-verify=false', '--authfile', '/tmp/x/auth.json', '--digestfile', '/tmp/x/d0', 'localhost/slipway-build-0a1b', 'docker://ghcr.io/acme/api:v1.2.3',
    ]);
    expect(commands.cleanup).toEqual(['rmi', 'localhost/slipway-build-0a1b']);
  });

  it('several platforms: build --manifest, then manifest push --all; TLS verification off only where asked', () => {
    const commands = ociEngineArgs({ ...options, platforms: ['linux/amd64', 'linux/arm64'], insecurePull: true });
    expect(commands.build).toContain('--tls-verify=false');
    expect(commands.build.slice(-3)).toEqual(['--manifest', 'localhost/slipway-build-0a1b', 'apps/api']);
    expect(commands.build).toContain('linux/amd64,linux/arm64');
    expect(commands.push('sha-1a2b3c4', '/d')).toEqual(['manifest', 'push', '--all', '--digestfile', '/d', 'localhost/slipway-build-0a1b', 'docker://ghcr.io/acme/api:sha-1a2b3c4']);
    expect(commands.cleanup).toEqual(['manifest', 'rm', 'localhost/slipway-build-0a1b']);
  });
});

describe('dockerfileBaseImages', () => {
  it.each([
    ['FROM node:20\n', ['node:20']],
    ['FROM --platform=$BUILDPLATFORM 127.0.0.1:5000/base:1 AS build\nRUN make\nFROM build\nFROM scratch\nCOPY --from=build /a /a\n', ['127.0.0.1:5000/base:1']],
    ['ARG BASE=alpine\nFROM ${BASE}\nfrom ghcr.io/acme/base@sha256:' + 'a'.repeat(64) + ' as final\n', ['ghcr.io/acme/base@sha256:' + 'a'.repeat(64)]],
    ['FROM \\\n  ghcr.io/acme/tools:1 \\\n  AS tools\n', ['ghcr.io/acme/tools:1']],
    ['# FROM nothing\nRUN echo FROM x\n', []],
  ])('%j → %j', (text, images) => {
    expect(dockerfileBaseImages(text)).toEqual(images);
  });
});

/** A stand-in program on disk: `body` is the shell script after the shebang. */
async function script(dir: string, name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

describe('detectBuildEngine', () => {
  it('takes docker only when buildx answers and a daemon does; else podman, else buildah; each probe a real process', async () => {
    const dir = await tempDir();
    const noDaemon = await script(dir, 'docker', 'if [ "$1" = buildx ]; then echo "github.com/docker/buildx v0.12.1"; exit 0; fi\necho "Cannot connect to the Docker daemon" >&2; exit 1');
    const withDaemon = await script(dir, 'docker-ok', 'exit 0');
    const present = await script(dir, 'engine', 'echo "version 1.0"');
    const absent = join(dir, 'absent');

    expect(await detectBuildEngine({ programs: { docker: withDaemon, podman: present, buildah: present } })).toMatchObject({ engine: 'docker', program: withDaemon });
    const podman = await detectBuildEngine({ programs: { docker: noDaemon, podman: present, buildah: present } });
    expect(podman).toMatchObject({ engine: 'podman', program: present });
    expect(podman.tried[0]).toContain('no docker daemon answers');
    expect(await detectBuildEngine({ programs: { docker: absent, podman: absent, buildah: present } })).toMatchObject({ engine: 'buildah' });
  });

  it('none usable: E_BUILD_TOOL_MISSING, exit 2, naming every engine tried and why', async () => {
    const dir = await tempDir();
    const absent = join(dir, 'absent');
    const error = await detectBuildEngine({ programs: { docker: absent, podman: absent, buildah: absent } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'BuildError', code: 'E_BUILD_TOOL_MISSING', exitCode: 2 });
    expect((error as Error).message).toMatch(/docker \(not installed\), podman \(not installed\), buildah \(not installed\)/);
  });
});

describe('the build deadline', () => {
  it('stops an engine that hangs, and every process it started, even one ignoring SIGTERM; the error says so with the log tail', async () => {
    const dir = await tempDir();
    const pids = join(dir, 'pids');
    // An engine that starts a helper, prints a step and hangs, ignoring SIGTERM (so SIGKILL must follow).
    const engine = await script(dir, 'buildah', `trap '' TERM\nsleep 300 &\necho $! > ${JSON.stringify(pids)}\necho "STEP 1/2: FROM scratch"\nsleep 300\n`);
    const started = Date.now();
    const error = await dockerBuild({ ...base, engine: 'buildah', program: engine, context: dir, timeoutMs: 1500, tempDir: dir }).catch((e: unknown) => e);
    const took = Date.now() - started;
    expect(error).toMatchObject({ name: 'BuildError', code: 'E_BUILD_TIMEOUT', exitCode: 1 });
    expect((error as Error).message).toContain('did not finish within the build deadline of 1.5s');
    expect((error as Error).message).toContain('STEP 1/2: FROM scratch');
    // The deadline plus the grace between SIGTERM and SIGKILL, not the 300 s the engine wanted.
    expect(took).toBeGreaterThanOrEqual(1500);
    expect(took).toBeLessThan(10_000);
    const helper = Number((await readFile(pids, 'utf8')).trim());
    expect(helper).toBeGreaterThan(0);
    await expect.poll(() => processRunning(helper), { timeout: 2000 }).toBe(false);
  });
});
