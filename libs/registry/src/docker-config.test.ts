import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CredentialsError, defaultCredentials, dockerConfigCredentials, githubTokenCredentials } from './index.js';

async function home(config: unknown): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-docker-config-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, '.docker'));
  await mkdir(join(dir, 'bin'));
  await writeFile(join(dir, '.docker', 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return { dir, env: { HOME: dir, PATH: `${join(dir, 'bin')}:/usr/bin:/bin` } };
}

/** A docker-credential-<name> that knows one server, the way real helpers answer. */
async function helper(dir: string, name: string, server: string, secret: string): Promise<void> {
  const path = join(dir, 'bin', `docker-credential-${name}`);
  await writeFile(
    path,
    `#!/bin/sh
[ "$1" = get ] || exit 2
read server
if [ "$server" = "${server}" ]; then
  printf '{"ServerURL":"%s","Username":"robot","Secret":"${secret}"}' "$server"
else
  echo "credentials not found in native keychain"; exit 1
fi
`,
  );
  await chmod(path, 0o755);
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('dockerConfigCredentials', () => {
  it('reads auths entries (base64 auth, username/password, keys with scheme), docker.io aliases', async () => {
    const { env } = await home({
      auths: {
        'ghcr.io': { auth: b64('alice:pa:ss') },
        'https://registry.example.com/v2/': { username: 'bob', password: 'pw' },
        'https://index.docker.io/v1/': { auth: b64('hub:hubpw') },
      },
    });
    const source = dockerConfigCredentials({ env });
    expect(await source('ghcr.io')).toEqual({ username: 'alice', password: 'pa:ss' });
    expect(await source('registry.example.com')).toEqual({ username: 'bob', password: 'pw' });
    expect(await source('docker.io')).toEqual({ username: 'hub', password: 'hubpw' });
    expect(await source('quay.io')).toBeUndefined();
  });

  it('honours DOCKER_CONFIG and an explicit configDir over HOME', async () => {
    const { dir, env } = await home({ auths: {} });
    const other = join(dir, 'other');
    await mkdir(other);
    await writeFile(join(other, 'config.json'), JSON.stringify({ auths: { 'ghcr.io': { auth: b64('ci:token') } } }));
    expect(await dockerConfigCredentials({ env: { ...env, DOCKER_CONFIG: other } })('ghcr.io')).toEqual({ username: 'ci', password: 'token' });
    expect(await dockerConfigCredentials({ env, configDir: other })('ghcr.io')).toEqual({ username: 'ci', password: 'token' });
    expect(await dockerConfigCredentials({ env })('ghcr.io')).toBeUndefined();
  });

  it('runs credHelpers for their host and credsStore for the rest, with the server on stdin', async () => {
    const { dir, env } = await home({ credHelpers: { 'ghcr.io': 'ghcr' }, credsStore: 'store' });
    await helper(dir, 'ghcr', 'ghcr.io', 'from-ghcr-helper');
    await helper(dir, 'store', 'https://index.docker.io/v1/', 'from-store');
    const source = dockerConfigCredentials({ env });
    expect(await source('ghcr.io')).toEqual({ username: 'robot', password: 'from-ghcr-helper' });
    expect(await source('docker.io')).toEqual({ username: 'robot', password: 'from-store' });
    expect(await source('quay.io')).toBeUndefined();
  });

  it('reports a missing helper, and a broken config file without echoing it', async () => {
    const missing = await home({ credsStore: 'nonexistent' });
    await expect(dockerConfigCredentials({ env: missing.env })('ghcr.io')).rejects.toMatchObject({ code: 'E_REGISTRY_CREDENTIALS', message: expect.stringMatching(/docker-credential-nonexistent/) });
    const broken = await home('{"auths": {"ghcr.io": {"auth": "c2VjcmV0LXZhbHVl"}');
    const error = await dockerConfigCredentials({ env: broken.env })('ghcr.io').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsError);
    expect(error).toMatchObject({ exitCode: 2, path: join(broken.dir, '.docker', 'config.json') });
    expect(inspect(error)).not.toContain('c2VjcmV0LXZhbHVl');
  });

  it('is anonymous when there is no config at all', async () => {
    expect(await dockerConfigCredentials({ env: { HOME: join(tmpdir(), 'slipway-no-such-home') } })('ghcr.io')).toBeUndefined();
    expect(await dockerConfigCredentials({ env: {} })('ghcr.io')).toBeUndefined();
  });
});

describe('githubTokenCredentials', () => {
  it('offers GHCR_TOKEN, then GITHUB_TOKEN, for ghcr.io only and only for the token exchange', async () => {
    const both = githubTokenCredentials({ GHCR_TOKEN: 'ghcr-pat', GITHUB_TOKEN: 'gh-token', GITHUB_ACTOR: 'octocat' });
    expect(await both('ghcr.io')).toEqual({ username: 'octocat', password: 'ghcr-pat', tokenOnly: true });
    expect(await githubTokenCredentials({ GITHUB_TOKEN: 'gh-token' })('ghcr.io')).toMatchObject({ password: 'gh-token', tokenOnly: true });
    expect(await both('registry.example.com')).toBeUndefined();
    expect(await githubTokenCredentials({})('ghcr.io')).toBeUndefined();
  });

  it('comes after docker login in defaultCredentials', async () => {
    const { env } = await home({ auths: { 'ghcr.io': { auth: b64('docker:login') } } });
    const source = defaultCredentials({ env: { ...env, GITHUB_TOKEN: 'gh-token' } });
    expect(await source('ghcr.io')).toEqual({ username: 'docker', password: 'login' });
    const { env: empty } = await home({});
    expect(await defaultCredentials({ env: { ...empty, GITHUB_TOKEN: 'gh-token' } })('ghcr.io')).toMatchObject({ password: 'gh-token', tokenOnly: true });
  });
});
