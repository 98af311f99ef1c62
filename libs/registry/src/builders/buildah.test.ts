import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildahSandbox, makeTestImage } from '@slipway/testing';
import { execa } from 'execa';
import { describe, expect, it, onTestFinished } from 'vitest';
import { registryPeer, seedWithSkopeo, skopeoDigest, skopeoRaw } from '../../test/peers.js';
import { staticCredentials } from '../credentials.js';
import { dockerBuild } from './docker.js';
import { processRunner, type CommandRunner } from './engine-process.js';

// build.type "docker" with a real engine: buildah from Debian, chroot isolation and vfs storage in
// a private folder per test. The registry (skopeo reading it) is the judge of the digest.

async function sandbox() {
  const box = await buildahSandbox();
  onTestFinished(box.cleanup);
  return box;
}

async function folder(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-context-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

/** The runner, recording every command line (to prove what never appears on one). */
function recording(): { run: CommandRunner; lines: string[][] } {
  const lines: string[][] = [];
  return { lines, run: (file, args, options) => (lines.push([file, ...args]), processRunner(file, args, options)) };
}

describe('dockerBuild with buildah', () => {
  it('builds FROM a base in a registry that needs credentials, pushes two tags, and returns the digest the registry holds for each', async () => {
    const peer = await registryPeer({ auth: 'htpasswd' });
    const box = await sandbox();
    const password = peer.password ?? '';
    await seedWithSkopeo(peer, makeTestImage({ content: 'base\n' }), 'base/tiny:1');
    const context = await folder({
      Dockerfile: `FROM ${peer.host}/base/tiny:1\nCOPY app.txt /app/app.txt\n`,
      'app.txt': 'hello from the app\n',
    });
    const temp = await folder({});
    const { run, lines } = recording();

    const result = await dockerBuild({
      engine: 'buildah',
      context,
      image: `${peer.host}/acme/api`,
      tags: ['v1.0.0', 'sha-1a2b3c4'],
      labels: { 'org.opencontainers.image.revision': 'a'.repeat(40), 'org.opencontainers.image.version': '1.0.0' },
      env: box.env,
      insecureHosts: [peer.host],
      credentials: staticCredentials(peer.host, { username: peer.username ?? '', password }),
      run,
      tempDir: temp,
    });

    expect(result).toMatchObject({ engine: 'buildah', image: `${peer.host}/acme/api`, tags: ['v1.0.0', 'sha-1a2b3c4'] });
    for (const tag of result.tags) expect(await skopeoDigest(peer, `acme/api:${tag}`)).toBe(result.digest);
    // The image is the base plus the app's layer, labelled.
    const manifest = JSON.parse(await skopeoRaw(peer, 'acme/api:v1.0.0')) as { layers: unknown[] };
    expect(manifest.layers).toHaveLength(2);
    const inspected = JSON.parse(
      (await execa('skopeo', ['inspect', '--tls-verify=false', `--creds=${peer.username}:${password}`, `docker://${peer.host}/acme/api:v1.0.0`])).stdout,
    ) as { Labels: Record<string, string> };
    expect(inspected.Labels['org.opencontainers.image.version']).toBe('1.0.0');
    // The password went in an auth file, never on a command line; the file is gone.
    expect(lines.flat().some((arg) => arg.includes(password) || arg.includes(Buffer.from(password).toString('base64')))).toBe(false);
    expect(lines.some((line) => line.includes('--authfile'))).toBe(true);
    expect(await readdir(temp)).toEqual([]);
    // Local storage keeps no slipway-build-* name.
    const images = await execa('buildah', ['images', '--format', '{{.Name}}'], { env: box.env, extendEnv: false });
    expect(images.stdout).not.toContain('slipway-build-');
  });

  it('FROM scratch on two platforms: one index pushed under every tag, its digest the registry\'s', async () => {
    const peer = await registryPeer();
    const box = await sandbox();
    const context = await folder({ 'Containerfile.app': 'FROM scratch\nCOPY app.txt /app.txt\n', 'app.txt': 'tiny\n' });
    const result = await dockerBuild({
      engine: 'buildah',
      context,
      dockerfile: join(context, 'Containerfile.app'),
      image: `${peer.host}/acme/multi`,
      tags: ['v2.0.0', 'sha-2b3c4d5'],
      platforms: ['linux/amd64', 'linux/arm64'],
      env: box.env,
      insecureHosts: [peer.host],
    });
    const index = JSON.parse(await skopeoRaw(peer, 'acme/multi:v2.0.0')) as { mediaType: string; manifests: { platform: { architecture: string } }[] };
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests.map((m) => m.platform.architecture).sort()).toEqual(['amd64', 'arm64']);
    for (const tag of result.tags) expect(await skopeoDigest(peer, `acme/multi:${tag}`)).toBe(result.digest);
  });

  it('a failing build is E_BUILD_FAILED with the tail of the engine log; nothing is pushed', async () => {
    const peer = await registryPeer();
    const box = await sandbox();
    const context = await folder({ Dockerfile: 'FROM scratch\nCOPY missing.txt /missing.txt\n' });
    const error = await dockerBuild({ engine: 'buildah', context, image: `${peer.host}/acme/broken`, tags: ['v1.0.0'], env: box.env, insecureHosts: [peer.host] }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ name: 'BuildError', code: 'E_BUILD_FAILED', exitCode: 1 });
    expect((error as Error).message).toContain('buildah build of');
    expect((error as Error).message).toContain('missing.txt');
    expect(peer.requests.filter((r) => r.method === 'PUT')).toEqual([]);
  });
});
