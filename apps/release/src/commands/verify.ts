import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyTag } from '@slipway/tag';
import { createNpmClient } from '../npm-client.js';
import { imageRevision } from '../artifact.js';
import type { Handler } from '../context.js';
import { readReleaseManifest, type ReleaseManifest } from '../manifest.js';
import { table } from '../output.js';
import { UsageError } from '../errors.js';
import { openWorkspace, type Workspace } from '../workspace.js';
import { servicesOf } from './publish.js';

interface Check {
  check: string;
  ok: boolean;
  detail: string;
}

const NPM_PREFIX = 'npm:';

/** An npm release: the version is on the registry, serving the tarball publish recorded (or built from `commit`). */
async function verifyNpm(ws: Workspace, name: string, version: string, expect: { digest?: string; commit?: string }): Promise<Check> {
  const scratch = await mkdtemp(join(tmpdir(), 'slipway-verify-'));
  try {
    const npm = await createNpmClient({ env: ws.env, cwd: ws.root, scratch, packageName: name });
    const published = await npm.version(name, version);
    const check = `npm ${name}@${version}`;
    if (!published) return { check, ok: false, detail: `missing on ${npm.registry}` };
    if (expect.digest) {
      const served = await npm.download(name, version, scratch);
      const digest = `sha256:${served.sha256}`;
      return { check, ok: digest === expect.digest, detail: digest === expect.digest ? digest : `serves ${digest}, not ${expect.digest}` };
    }
    const ok = published.gitHead === expect.commit;
    return { check, ok, detail: ok ? `gitHead ${published.gitHead}` : `published from ${published.gitHead ?? 'an unknown commit'}, not ${expect.commit?.slice(0, 7)}` };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** What publish promised: each image tag resolves to the manifest's digest; the GitHub release exists. */
async function verifyManifest(ws: Workspace, manifest: ReleaseManifest): Promise<Check[]> {
  if (manifest.image.startsWith(NPM_PREFIX)) {
    return [await verifyNpm(ws, manifest.image.slice(NPM_PREFIX.length), manifest.version, { digest: manifest.digest })];
  }
  const checks: Check[] = [];
  const { registry, ref } = await ws.registry(manifest.image);
  for (const tag of manifest.tags) {
    const resolved = await registry.resolve(ref.repository, tag);
    checks.push({
      check: `${manifest.image}:${tag}`,
      ok: resolved?.digest === manifest.digest,
      detail: resolved ? (resolved.digest === manifest.digest ? manifest.digest : `resolves to ${resolved.digest}, not ${manifest.digest}`) : 'missing',
    });
  }
  return checks;
}

async function npmPackageName(ws: Workspace, service: string, commit: string): Promise<string> {
  const [root] = await ws.serviceRoots(service);
  const text = await ws.git().readFileAt({ commit, path: `${root}/package.json` });
  const name = text ? (JSON.parse(text) as { name?: unknown }).name : undefined;
  if (typeof name !== 'string') throw new UsageError(`${root}/package.json at ${commit.slice(0, 7)} has no package name`);
  return name;
}

export const verify: Handler = async ({ args, options }, ctx) => {
  const ws = await openWorkspace(ctx);
  const tag = String(args['tag']);
  const info = classifyTag(tag, { scheme: ws.config.scheme, services: ws.config.services });
  const checks: Check[] = [];

  const manifestPath = typeof options['manifest'] === 'string' ? options['manifest'] : undefined;
  if (manifestPath) {
    const manifest = await readReleaseManifest(manifestPath);
    if (manifest.tag !== tag) throw new UsageError(`${manifestPath} is the manifest of ${manifest.tag}, not ${tag}`);
    checks.push(...(await verifyManifest(ws, manifest)));
  } else {
    // No manifest: the image under the tag's name must exist and say it was built from the tag's commit.
    const commit = await ws.git().resolveCommit(`refs/tags/${tag}`);
    for (const service of servicesOf(ws, info)) {
      if (service.kind === 'npm') {
        checks.push(await verifyNpm(ws, await npmPackageName(ws, service.name, commit), info.version ?? '', { commit }));
        continue;
      }
      const { registry, ref } = await ws.registry(service.image);
      const resolved = await registry.resolve(ref.repository, info.name);
      const revision = resolved ? await imageRevision(registry, ref.repository, resolved.digest) : undefined;
      checks.push({
        check: `${service.image}:${info.name}`,
        ok: resolved !== undefined && revision === commit,
        detail: !resolved ? 'missing' : revision === commit ? resolved.digest : `built from ${revision ?? 'an unknown commit'}, not ${commit.slice(0, 7)}`,
      });
    }
  }

  const github = await ws.github();
  if (github) {
    const release = await github.getReleaseByTag(tag);
    checks.push({ check: `GitHub release ${tag}`, ok: release !== undefined, detail: release ? release.url : 'missing' });
  }

  const failed = checks.filter((c) => !c.ok);
  const human = [
    table(['check', 'ok', 'detail'], checks.map((c) => [c.check, c.ok ? 'yes' : 'NO', c.detail])),
    failed.length ? `\n${failed.length} check(s) failed: re-run \`slipway publish ${tag}\` to finish the release.` : `\n${tag} is published and verified.`,
  ].join('\n');
  return { data: { tag, ok: failed.length === 0, checks }, human, exitCode: failed.length ? 1 : 0 };
};
