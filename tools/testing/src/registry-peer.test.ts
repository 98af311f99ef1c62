import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it, onTestFinished } from 'vitest';
import { makeTestImage, makeTestMultiPlatform, writeTestLayout, type TestImage, type TestIndex } from './registry-fixtures.js';
import { startRegistry, type RegistryPeer, type StartRegistryOptions } from './registry-peer.js';

async function peer(options: StartRegistryOptions = {}): Promise<RegistryPeer> {
  const registry = await startRegistry(options);
  onTestFinished(() => registry.stop());
  return registry;
}

async function layout(content: TestImage | TestIndex, tag: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-layout-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  await writeTestLayout(dir, content, tag);
  return dir;
}

function creds(registry: RegistryPeer): string[] {
  return registry.username === undefined ? [] : [`--creds=${registry.username}:${registry.password}`];
}

async function skopeoCopy(registry: RegistryPeer, content: TestImage | TestIndex, target: string, extra: string[] = []) {
  const dir = await layout(content, 'src');
  return execa('skopeo', ['copy', '--all', '--dest-tls-verify=false', ...extra, `oci:${dir}:src`, `docker://${registry.host}/${target}`], { reject: false });
}

async function skopeoRaw(registry: RegistryPeer, ref: string): Promise<string> {
  const { stdout } = await execa('skopeo', ['inspect', '--raw', '--tls-verify=false', ...creds(registry), `docker://${registry.host}/${ref}`]);
  return stdout;
}

describe('startRegistry', () => {
  it.each(['none', 'htpasswd', 'token'] as const)('serves a registry with %s auth that skopeo pushes to and reads back', async (auth) => {
    const registry = await peer({ auth });
    const image = makeTestImage();
    const copied = await skopeoCopy(registry, image, 'team/app:v1', registry.username === undefined ? [] : [`--dest-creds=${registry.username}:${registry.password}`]);
    expect(copied.exitCode, copied.stderr).toBe(0);
    expect(await skopeoRaw(registry, 'team/app:v1')).toBe(Buffer.from(image.bytes).toString());
    expect(registry.requests.some((r) => r.method === 'PUT' && r.path === '/v2/team/app/manifests/v1' && r.status === 201)).toBe(true);
  });

  it.each(['htpasswd', 'token'] as const)('refuses pushes without credentials under %s auth', async (auth) => {
    const registry = await peer({ auth });
    const copied = await skopeoCopy(registry, makeTestImage(), 'team/app:v1');
    expect(copied.exitCode).not.toBe(0);
    expect(copied.stderr).toMatch(/unauthorized|authentication required|denied/i);
  });

  it('issues tokens only for what the issuer grants, through the real challenge', async () => {
    const registry = await peer({ auth: 'token', anonymousPull: true });
    const image = makeTestMultiPlatform();
    const pushed = await skopeoCopy(registry, image, 'team/app:v1', [`--dest-creds=${registry.username}:${registry.password}`]);
    expect(pushed.exitCode, pushed.stderr).toBe(0);
    const granted = registry.tokenIssuer?.requests.filter((r) => r.subject === registry.username).flatMap((r) => r.granted) ?? [];
    expect(granted).toContainEqual({ type: 'repository', name: 'team/app', actions: ['pull', 'push'] });

    // Anonymous: pull works, the issuer grants no push.
    const raw = await execa('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/team/app:v1`]);
    expect(JSON.parse(raw.stdout)).toMatchObject({ mediaType: 'application/vnd.oci.image.index.v1+json' });
    const anonymousPush = await skopeoCopy(registry, makeTestImage(), 'team/app:v2');
    expect(anonymousPush.exitCode).not.toBe(0);
    expect(registry.tokenIssuer?.requests.filter((r) => r.subject === undefined).every((r) => r.granted.every((g) => !g.actions.includes('push')))).toBe(true);
  });

  it('pages tag lists the way the distribution spec says, which Distribution 2.8 itself does not', async () => {
    const registry = await peer({ tagPageSize: 2 });
    const image = makeTestImage();
    expect((await skopeoCopy(registry, image, 'app:t0')).exitCode).toBe(0);
    for (const tag of ['t3', 't1', 't4', 't2']) {
      const put = await fetch(`${registry.url}/v2/app/manifests/${tag}`, { method: 'PUT', headers: { 'Content-Type': image.mediaType }, body: image.bytes });
      expect(put.status).toBe(201);
    }
    const first = await fetch(`${registry.url}/v2/app/tags/list`);
    expect(await first.json()).toEqual({ name: 'app', tags: ['t0', 't1'] });
    expect(first.headers.get('link')).toBe('</v2/app/tags/list?n=2&last=t1>; rel="next"');
    const sized = await fetch(`${registry.url}/v2/app/tags/list?n=3&last=t1`);
    expect(await sized.json()).toEqual({ name: 'app', tags: ['t2', 't3', 't4'] });
    expect(sized.headers.get('link')).toBeNull();
    // skopeo follows the Link header too.
    const listed = await execa('skopeo', ['list-tags', '--tls-verify=false', `docker://${registry.host}/app`]);
    expect(JSON.parse(listed.stdout).Tags).toEqual(['t0', 't1', 't2', 't3', 't4']);
  });

  it('injects faults: a status instead of the registry, or a dropped connection', async () => {
    const registry = await peer();
    registry.injectFault({ method: 'GET', path: '/v2/', status: 503, headers: { 'Retry-After': '1' }, times: 2 });
    expect((await fetch(`${registry.url}/v2/`)).status).toBe(503);
    expect((await fetch(`${registry.url}/v2/`)).status).toBe(503);
    expect((await fetch(`${registry.url}/v2/`)).status).toBe(200);
    registry.injectFault({ path: /^\/v2\/$/, reset: 'before' });
    await expect(fetch(`${registry.url}/v2/`)).rejects.toThrow();
    expect(registry.requests.map((r) => [r.status, r.fault])).toEqual([
      [503, true],
      [503, true],
      [200, false],
      [0, true],
    ]);
  });

  it('fails with a clear message when the registry binary is missing', async () => {
    await expect(startRegistry({ binary: '/nonexistent/docker-registry' })).rejects.toThrow(/docker-registry.*not found.*apt-get install -y docker-registry/);
  });
});
