import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { openOciLayout } from '@slipway/registry';
import { createTempRepo, hermeticGitEnv, makeTestImage, type GitWorkdir, type TempRepo } from '@slipway/testing';
import { onTestFinished } from 'vitest';
import { PLANTED, runCli, type CliRun } from './run-cli.js';

export const ENVIRONMENTS = {
  staging: {},
  canary: { after: 'staging' },
  production: { after: 'canary', approvals: 1, approvers: ['release-manager'] },
};

export interface PinsWorkspaceOptions {
  /**
   * `self`: pins.repo "." — the workspace repository is the pins checkout (its bare origin receives
   * the pushes). `remote`: pins.repo is the path of a separate bare repository, cloned into the cache;
   * `url`: the same repository as a `file://` URL.
   */
  pins?: 'self' | 'remote' | 'url';
  format?: 'pin' | 'helm' | 'kustomize';
  path?: string;
  /** Extra pins files in the initial commit of the pins repository. */
  pinsFiles?: Record<string, string>;
  services?: Record<string, unknown>;
  scheme?: 'per-service' | 'single' | 'staging-line';
}

export interface PinsWorkspace {
  /** The workspace (services.json at its root). */
  repo: TempRepo;
  /** The repository holding the pins: the workspace itself, or a separate one. */
  pinsRepo: TempRepo;
  /** Bare repository the pins are pushed to. */
  pinsOrigin: string;
  /** `oci-layout:<dir>` registry of services.json. */
  layoutDir: string;
  env: NodeJS.ProcessEnv;
  /** Runs slipway in the workspace. */
  run(args: readonly string[], options?: { env?: NodeJS.ProcessEnv; cwd?: string }): Promise<CliRun>;
  /** Stores a fresh tiny image under `tag` in the service's repository (moving the tag if it exists); returns its digest. */
  publish(service: string, tag: string): Promise<string>;
  /** `git log --format=%s` of the pins origin's main branch. */
  originLog(): Promise<string[]>;
  /** A file on the pins origin's main branch, or undefined. */
  originFile(path: string): Promise<string | undefined>;
  /** Message bodies (with trailers) of the pins origin's main branch, newest first. */
  originMessages(): Promise<string[]>;
  /** Another workspace clone with its own cache, to race from. */
  cloneWorkspace(name: string): Promise<GitWorkdir>;
}

export async function pinsWorkspace(options: PinsWorkspaceOptions = {}): Promise<PinsWorkspace> {
  const pinsMode = options.pins ?? 'self';
  const separate = pinsMode !== 'self' ? await createTempRepo({ files: { 'README.md': '# infra\n', ...options.pinsFiles } }) : undefined;
  if (separate) onTestFinished(separate.cleanup);

  const layoutHolder = await mkdtemp(join(tmpdir(), 'slipway-images-'));
  onTestFinished(() => rm(layoutHolder, { recursive: true, force: true }));
  const layoutDir = join(layoutHolder, 'images');

  const config = {
    scheme: options.scheme ?? 'per-service',
    registry: `oci-layout:${layoutDir}`,
    environments: ENVIRONMENTS,
    pins: { repo: separate ? (pinsMode === 'url' ? `file://${separate.origin}` : separate.origin) : '.', path: options.path ?? 'deploy/{environment}/{service}.yaml', format: options.format ?? 'pin' },
    services: options.services ?? { api: { root: 'apps/api' }, vault: { root: 'apps/vault' }, cli: { root: 'apps/cli', kind: 'npm' } },
  };
  const repo = await createTempRepo({
    files: {
      'services.json': JSON.stringify(config, null, 2),
      'apps/api/server.js': 'console.log("api")\n',
      ...(separate ? {} : options.pinsFiles),
    },
  });
  onTestFinished(repo.cleanup);
  const pinsRepo = separate ?? repo;
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], NO_COLOR: '1', HOME: repo.root, ...hermeticGitEnv, GITHUB_ACTOR: 'alice', GHCR_TOKEN: PLANTED.ghcrToken };
  const registry = openOciLayout(layoutDir);
  const originGit = (...args: string[]) => pinsRepo.git('-C', pinsRepo.origin, ...args);

  return {
    repo,
    pinsRepo,
    pinsOrigin: pinsRepo.origin,
    layoutDir,
    env,
    run: (args, runOptions = {}) => runCli([...args], { cwd: runOptions.cwd ?? repo.dir, env: runOptions.env ?? env }),
    async publish(service, tag) {
      const image = makeTestImage();
      for (const blob of [image.config, ...image.layers]) await registry.pushBlob(service, { digest: blob.digest, bytes: blob.bytes });
      await registry.putManifest(service, tag, { mediaType: image.mediaType, bytes: image.bytes });
      return image.digest;
    },
    async originLog() {
      return (await originGit('log', '--format=%s', 'main')).split('\n');
    },
    async originFile(path) {
      const shown = await execa('git', ['-C', pinsRepo.origin, 'show', `main:${path}`], { env: hermeticGitEnv, reject: false, stripFinalNewline: false });
      return shown.exitCode === 0 ? shown.stdout : undefined;
    },
    async originMessages() {
      return (await originGit('log', '--format=%B%x00', 'main')).split('\0\n').map((m) => m.replace(/\0$/, '').trim());
    },
    async cloneWorkspace(name) {
      return repo.clone(name);
    },
  };
}

/** Drops `tag` from the layout's index, as a registry admin deleting a tag would. */
export async function deleteLayoutTag(layoutDir: string, repository: string, tag: string): Promise<void> {
  const path = join(layoutDir, repository, 'index.json');
  const index = JSON.parse(await readFile(path, 'utf8')) as { manifests: { annotations?: Record<string, string> }[] };
  index.manifests = index.manifests.filter((m) => m.annotations?.['org.opencontainers.image.ref.name'] !== tag);
  await writeFile(path, JSON.stringify(index));
}

export function json<T = Record<string, unknown>>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${run.exitCode}): ${run.stdout}\n${run.stderr}`);
  }
}
