import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRegistryClient, isNotFound, type RegistryClient } from '@slipway/registry';
import { startFaultProxy, type FaultProxy, type FaultSettings } from '@slipway/testing';
import { expect, onTestFinished } from 'vitest';
import { layer, REPOSITORY, releaseWorkspace, skopeoDigest, skopeoTags, type ReleaseWorkspace } from '../fixtures.js';
import { runCli, type CliRun } from '../run-cli.js';


/** api publishes four tags (one immutable, three floating), so a publish writes several manifests. */
export function servicesJson(registryHost: string): Record<string, unknown> {
  return {
    repository: REPOSITORY,
    registry: `${registryHost}/acme`,
    insecureRegistries: [registryHost],
    dispatch: { eventType: 'deploy' },
    environments: { staging: {} },
    services: {
      api: { root: 'apps/api', imageTags: ['X.Y.Z', 'X.Y', 'latest'], build: layer('apps/api') },
      vault: { root: 'apps/vault', build: layer('apps/vault') },
    },
  };
}

export interface FaultyWorkspace {
  ws: ReleaseWorkspace;
  /** Between slipway and the registry: services.json names this host. */
  registryProxy: FaultProxy;
  /** Between slipway and the GitHub double: GITHUB_API_URL points here. */
  githubProxy: FaultProxy;
  env: NodeJS.ProcessEnv;
  manifestPath: string;
  publish(tag: string, extra?: string[]): Promise<CliRun>;
}

/**
 * releaseWorkspace with fault proxies in front of its registry and its GitHub double, and
 * services.json rewritten (committed, pushed) to go through them. Proxies start fault-free.
 */
export async function faultyWorkspace(): Promise<FaultyWorkspace> {
  const ws = await releaseWorkspace();
  const registryProxy = await startFaultProxy({ target: ws.registry.url });
  onTestFinished(() => registryProxy.stop());
  const githubProxy = await startFaultProxy({ target: ws.github.url });
  onTestFinished(() => githubProxy.stop());
  await ws.repo.commit('chore: through the proxies', { 'services.json': JSON.stringify(servicesJson(registryProxy.host), null, 2) });
  await ws.repo.push('main');
  const env = { ...ws.env, GITHUB_API_URL: githubProxy.url };
  const manifestPath = join(ws.repo.root, 'manifest.json');
  return {
    ws,
    registryProxy,
    githubProxy,
    env,
    manifestPath,
    publish: (tag, extra = []) => runCli(['publish', tag, '--manifest', manifestPath, '--json', ...extra], { cwd: ws.repo.dir, env }),
  };
}

/** A workspace like faultyWorkspace's, without proxies: what an undisturbed publish produces. */
export async function cleanWorkspace(): Promise<{ ws: ReleaseWorkspace; manifestPath: string; env: NodeJS.ProcessEnv }> {
  const ws = await releaseWorkspace();
  await ws.repo.commit('chore: through the proxies', { 'services.json': JSON.stringify(servicesJson(ws.registry.host), null, 2) });
  await ws.repo.push('main');
  return { ws, manifestPath: join(ws.repo.root, 'manifest.json'), env: ws.env };
}

export function directClient(ws: ReleaseWorkspace): RegistryClient {
  return createRegistryClient({ host: ws.registry.host, insecure: true });
}

interface ManifestJson {
  mediaType?: string;
  config?: { digest: string };
  layers?: { digest: string }[];
  manifests?: { digest: string }[];
}

/**
 * Every tag of `repository` whose image cannot be pulled in full (a manifest or blob it needs is
 * missing), read straight from the registry behind the proxies.
 */
export async function brokenTags(client: RegistryClient, repository: string): Promise<string[]> {
  let tags: string[];
  try {
    tags = await client.listTags(repository);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  const broken: string[] = [];
  const complete = async (reference: string): Promise<boolean> => {
    let manifest: ManifestJson;
    try {
      manifest = JSON.parse(Buffer.from((await client.getManifest(repository, reference)).bytes).toString('utf8')) as ManifestJson;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
    if (manifest.manifests) {
      for (const child of manifest.manifests) if (!(await complete(child.digest))) return false;
      return true;
    }
    for (const blob of [manifest.config, ...(manifest.layers ?? [])]) {
      if (blob === undefined || !(await client.hasBlob(repository, blob.digest))) return false;
    }
    return true;
  };
  for (const tag of tags) if (!(await complete(tag))) broken.push(tag);
  return broken;
}

/** What a publish left behind, for comparing runs. */
export async function publishedState(ws: ReleaseWorkspace, manifestPath: string, tags: readonly string[] = ['v1.0.0', '1.0.0', '1.0', 'latest']) {
  const repo = ws.github.repo(REPOSITORY);
  const digests: Record<string, string | undefined> = {};
  for (const tag of tags) digests[tag] = await skopeoDigest(`${ws.registry.host}/acme/api:${tag}`);
  return {
    tags: await skopeoTags(`${ws.registry.host}/acme/api`),
    vaultTags: await skopeoTags(`${ws.registry.host}/acme/vault`),
    digests,
    releases: repo.releases.map((r) => ({ tag: r.tag_name, prerelease: r.prerelease, target: r.target_commitish, body: r.body })),
    dispatches: repo.dispatches.map((d) => ({ type: d.event_type, digest: d.client_payload['digest'] })),
    manifest: JSON.parse(await readFile(manifestPath, 'utf8').catch(() => 'null')) as Record<string, unknown> | null,
  };
}

/** Ports and hashes differ between workspaces; what remains must be equal. */
export function normalize(text: string | null | undefined): string | undefined {
  return text?.replace(/sha256:[0-9a-f]{64}|[0-9a-f]{40}|\b[0-9a-f]{7}\b|127\.0\.0\.1:\d+/g, '…');
}

/** A failed run must be a typed, retryable failure: exit 1 with an E_ code that is not a crash. */
export function expectOperationalFailure(run: CliRun): { code: string; message: string } {
  expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(1);
  const error = (JSON.parse(run.stdout) as { error: { code: string; message: string } }).error;
  expect(error.code).toMatch(/^E_[A-Z_]+$/);
  // E_INTERNAL is a crash; E_SYSTEM_* an error no adapter translated.
  expect(error.code).not.toMatch(/^E_(INTERNAL|SYSTEM_)/);
  return error;
}

export const faults = (seed: number, rate = 0.25): FaultSettings => ({ rate, seed, retryAfterSeconds: 0, slowDelayMs: 2 });

/** A fault matcher that accepts the first request `predicate` accepts, and nothing after it. */
export function firstMatch(predicate: (request: { method: string; path: string }) => boolean): (request: { method: string; path: string }) => boolean {
  let used = false;
  return (request) => {
    if (used || !predicate(request)) return false;
    used = true;
    return true;
  };
}
