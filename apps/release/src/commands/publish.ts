import { appendFile, readFile, rename, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ResolvedService } from '@slipway/config';
import { renderNotes } from '@slipway/notes';
import { classifyTag, imageTags, prefixTakesV, sortTags, type TagInfo } from '@slipway/tag';
import { publishArtifact, type ArtifactResult } from '../artifact.js';
import type { CommandContext, Handler } from '../context.js';
import { crashPoint } from '../crash-point.js';
import { assertBuildable } from '../flows/build-preflight.js';
import { PolicyError, UsageError } from '../errors.js';
import type { ReleaseManifest } from '../manifest.js';
import { publishNpmPackage } from '../npm-publish.js';
import { table } from '../output.js';
import { tryClassify } from '../promotion.js';
import { pullCommand } from '../pull-command.js';
import { openWorkspace, type Workspace } from '../workspace.js';

const DISPATCHED_MARK = '<!-- slipway: deploy dispatched -->';

export interface PublishResult {
  tag: string;
  commit: string;
  dryRun: boolean;
  artifacts: ArtifactResult[];
  release: { url: string; action: string } | null;
  manifests: ReleaseManifest[];
  dispatched: boolean;
}

/** The tags of one release stream: `<tagPrefix>v…` (or `<package>@…`) per service, `v…` for the single scheme. */
function streamPrefix(info: TagInfo): string {
  return info.service === null ? 'v' : prefixTakesV(info.prefix) ? `${info.prefix}v` : info.prefix;
}

/** The services a tag publishes: the one it names, or every image service of a single-image repo. */
export function servicesOf(ws: Workspace, info: TagInfo): ResolvedService[] {
  if (info.service !== null) return [ws.service(info.service)];
  return ws.serviceNames().map((name) => ws.service(name)).filter((s) => s.kind === 'image');
}

async function writeOnce(path: string, manifest: ReleaseManifest | ReleaseManifest[]): Promise<void> {
  // A manifest is written once: a re-run that finds the same release keeps the first createdAt.
  try {
    const previous = JSON.parse(await readFile(path, 'utf8')) as ReleaseManifest | ReleaseManifest[];
    const strip = (m: ReleaseManifest | ReleaseManifest[]) => JSON.stringify(m, (k, v: unknown) => (k === 'createdAt' ? undefined : v));
    if (strip(previous) === strip(manifest)) return;
  } catch {
    // absent or unreadable: write it
  }
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(temp, path);
}

async function releaseNotes(ws: Workspace, info: TagInfo, commit: string, service: ResolvedService | undefined): Promise<string> {
  const git = ws.git();
  const stream = await git.listTags(streamPrefix(info));
  const options = { scheme: ws.config.scheme, services: ws.config.services } as const;
  const older = sortTags(
    stream.map((t) => t.name),
    info.service === null ? options : { ...options, service: info.service },
  ).filter((t) => t.tag !== info.tag && t.kind !== 'checkpoint' && t.version !== null);
  // The previous release: the newest one whose commit is an ancestor of this tag's commit.
  let previous: string | undefined;
  for (const candidate of older.reverse()) {
    const candidateCommit = stream.find((t) => t.name === candidate.tag)?.commit;
    if (candidateCommit && candidateCommit !== commit && (await git.isAncestor(candidateCommit, commit))) {
      previous = candidate.tag;
      break;
    }
  }
  const paths = service ? await ws.serviceRoots(service.name) : [];
  const commits = await git.logBetween({ ...(previous ? { from: previous } : {}), to: commit, paths });
  return renderNotes({
    ...(info.service ? { service: info.service } : {}),
    version: info.version ?? info.name,
    tag: info.tag,
    ...(previous ? { previousTag: previous } : {}),
    commits: commits.map((c) => ({ sha: c.sha, subject: c.subject, body: c.body, message: c.message })),
    ...(ws.config.repository ? { repository: ws.config.repository } : {}),
    date: new Date((await git.commitTime(commit)) * 1000),
  });
}

/** The publish pipeline of CONTRACT §3, each step idempotent. Exposed for `slipway ci`. */
export async function publishTag(ws: Workspace, tag: string, options: { manifest?: string; dryRun: boolean; ctx: CommandContext }): Promise<PublishResult> {
  const { ctx, dryRun } = options;
  const log = (m: string) => ctx.out.info(m);

  // 1. What the tag means; bad input stops here, before any side effect.
  const info = classifyTag(tag, { scheme: ws.config.scheme, services: ws.config.services });
  if (info.kind === 'sha' || info.kind === 'staging' || ws.config.scheme === 'staging-line') {
    throw new UsageError(`${tag} is a ${info.kind} tag of the staging line: it is published by \`slipway ci\` on a push to staging or main, not by publish`);
  }
  const services = servicesOf(ws, info);
  if (services.length === 0) throw new UsageError('services.json has no image service to publish');

  // 2. Origin is the source of truth: the tag's commit must be on the main line, prereleases too
  //    unless prereleaseFrom says otherwise.
  const git = ws.git();
  const main = ws.config.mainBranch;
  log(`fetching tags and ${main} from origin`);
  await git.fetchBranchAndTags(main);
  const commit = await git.resolveCommit(`refs/tags/${tag}`);
  // prereleaseFrom "any-branch" lets a prerelease (a canary of a feature branch) ship from off
  // main; a stable release never does, whatever the setting.
  const offMainAllowed = info.prerelease && services.every((s) => s.prereleaseFrom === 'any-branch');
  const onMain = await git.isAncestor(commit, `refs/remotes/origin/${main}`);
  if (!onMain && offMainAllowed) {
    log(`${tag} is not on origin/${main}; publishing it anyway: prereleaseFrom is "any-branch"`);
  } else if (!onMain) {
    const hint = info.prerelease ? ' (prereleases from other branches need "prereleaseFrom": "any-branch" in services.json)' : '';
    throw new PolicyError(
      'E_TAG_NOT_ON_MAIN',
      `${tag} points at ${commit.slice(0, 7)}, which is not reachable from origin/${main}: releases ship code that is already on ${main}. Tag a commit of ${main} instead (tags are immutable: use a new version)${hint}.`,
    );
  }

  // Build configuration errors knowable offline stop here, before anything is pushed.
  await assertBuildable(ws, services, { commit, version: info.version });
  // GitHub's settings (a token when services.json names a repository, SLIPWAY_GITHUB_TIMEOUT) are
  // input too: a missing one stops here with exit 2, not after the images are pushed.
  const github = await ws.github();
  crashPoint(ctx.env, 'checks');

  // 3–5. Immutability, build or locate, push, verify — per service, in its own repository.
  // Stable versions already released in this tag's stream: `latest` and X.Y never move backwards.
  const released = (await git.listTags(streamPrefix(info)))
    .filter((t) => t.name !== tag)
    .map((t) => tryClassify(ws, t.name))
    .flatMap((other) => (other?.kind === 'release' && other.version !== null ? [other.version] : []));
  const artifacts: ArtifactResult[] = [];
  for (const service of services) {
    // npm services publish a package, never an image (see npm-publish.ts).
    if (service.kind === 'npm') {
      artifacts.push(await publishNpmPackage(ws, { service, info, commit, dryRun, log }));
      crashPoint(ctx.env, `artifact:${service.name}`);
      continue;
    }
    const tagSet = imageTags({ type: 'tag', tag: info, existing: released }, { scheme: ws.config.scheme, extras: service.imageTags });
    artifacts.push(await publishArtifact(ws, { service, commit, version: info.version, tagSet, dryRun, log, progress: (label) => ctx.out.progress(label) }));
    crashPoint(ctx.env, `artifact:${service.name}`);
  }

  // 6. GitHub release: prerelease from the tag; an existing identical release is fine.
  let release: PublishResult['release'] = null;
  const makeLatest = !info.prerelease && services.every((s) => s.makeLatest) ? 'true' : 'false';
  const notes = await releaseNotes(ws, info, commit, info.service === null ? undefined : services[0]);
  const body = [
    notes.trimEnd(),
    '',
    artifacts.some((a) => a.image.startsWith('npm:')) ? '### Package' : '### Image',
    '',
    '| artifact | digest |',
    '|---|---|',
    ...artifacts.map((a) => `| \`${a.image}:${a.tags[0] ?? ''}\` | \`${a.digest}\` |`),
    '',
  ].join('\n');
  if (github && !dryRun) {
    // Keep the dispatch record of an earlier run, or ensureRelease would erase it and re-dispatch.
    const previous = await github.getReleaseByTag(tag);
    const finalBody = previous?.body.includes(DISPATCHED_MARK) ? `${body.trimEnd()}\n\n${DISPATCHED_MARK}\n` : body;
    const ensured = await github.ensureRelease({ tag, name: tag, body: finalBody, prerelease: info.prerelease, makeLatest, targetCommitish: commit });
    release = { url: ensured.release.url, action: ensured.action };
    log(`GitHub release ${ensured.action}: ${ensured.release.url}`);
    crashPoint(ctx.env, 'release');
  }

  // 7. The release manifest, computed once; then dispatch a deploying tag by digest.
  const createdAt = new Date().toISOString();
  const manifests: ReleaseManifest[] = artifacts.map((a) => ({
    schema: 1,
    service: a.service,
    version: info.version ?? info.name,
    tag,
    commit,
    image: a.image,
    digest: a.digest,
    tags: a.tags,
    prerelease: info.prerelease,
    deploy: info.deploy,
    createdAt,
  }));
  const [first] = manifests;
  if (!dryRun && first) {
    const document = manifests.length === 1 ? first : manifests;
    if (options.manifest) await writeOnce(resolve(ctx.processCwd, options.manifest), document);
    const output = ctx.env['GITHUB_OUTPUT'];
    if (output) {
      await appendFile(output, `digest=${first.digest}\nimage=${first.image}\nversion=${first.version}\ntag=${tag}\nmanifest<<SLIPWAY_EOF\n${JSON.stringify(document)}\nSLIPWAY_EOF\n`);
    }
    const summary = ctx.env['GITHUB_STEP_SUMMARY'];
    if (summary) {
      await appendFile(summary, `## ${tag}\n\n| image | digest | tags |\n|---|---|---|\n${artifacts.map((a) => `| \`${a.image}\` | \`${a.digest}\` | ${a.tags.join(', ')} |`).join('\n')}\n\n`);
    }
  }
  crashPoint(ctx.env, 'manifest');

  // Dispatch at least once: the release records that it happened, so a re-run after a crash
  // before the record dispatches again (deploy by digest is idempotent), one after it does not.
  let dispatched = false;
  if (info.deploy && !dryRun && github && ws.config.dispatch) {
    const current = await github.getReleaseByTag(tag);
    if (current && !current.body.includes(DISPATCHED_MARK)) {
      for (const manifest of manifests) {
        // GitHub allows at most 10 top-level client_payload properties: the essentials, plus the whole manifest nested.
        const { service, version, tag: releaseTag, image, digest } = manifest;
        await github.repositoryDispatch({ eventType: ws.config.dispatch.eventType, clientPayload: { service, version, tag: releaseTag, image, digest, manifest } });
      }
      crashPoint(ctx.env, 'dispatch');
      await github.updateRelease(current.id, { body: `${current.body.trimEnd()}\n\n${DISPATCHED_MARK}\n`, makeLatest });
      dispatched = true;
      log(`dispatched ${ws.config.dispatch.eventType} by digest`);
    }
  }
  return { tag, commit, dryRun, artifacts, release, manifests, dispatched };
}

export const publish: Handler = async ({ args, options }, ctx) => {
  const ws = await openWorkspace(ctx);
  const manifest = typeof options['manifest'] === 'string' ? options['manifest'] : undefined;
  const result = await publishTag(ws, String(args['tag']), { ...(manifest ? { manifest } : {}), dryRun: ctx.dryRun, ctx });
  const rows = result.artifacts.map((a) => [a.image, a.digest, a.tags.join(', '), a.action]);
  const human = [
    `${result.dryRun ? 'would publish' : 'published'} ${result.tag} (${result.commit.slice(0, 7)})`,
    table(['image', 'digest', 'tags', 'action'], rows),
    ...(result.dryRun
      ? []
      : result.artifacts.flatMap((a) => {
          const pull = a.tags[0] === undefined ? undefined : pullCommand(a.image, a.tags[0], a.digest, ws.root);
          return pull === undefined ? [] : [`pull: ${pull}`];
        })),
    result.release ? `release: ${result.release.url} (${result.release.action})` : '',
    manifest && !result.dryRun ? `manifest: ${manifest}` : '',
  ]
    .filter(Boolean)
    .join('\n');
  return { data: result, human };
};
