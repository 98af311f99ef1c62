import { renderNotes } from '@slipway/notes';
import { compareVersions, parseVersion, releaseTag, type ClassifyOptions } from '@slipway/tag';
import type { Env, Handler } from '../context.js';
import { assertBuildable } from '../flows/build-preflight.js';
import { PolicyError, UsageError } from '../errors.js';
import { planReleases } from '../release-plan.js';
import { openWorkspace } from '../workspace.js';
import { bumpOptions } from './plan.js';

/** What `slipway release --json` prints. */
export interface ReleaseResult {
  service: string;
  tag: string;
  version: string;
  previousTag: string | null;
  /** The commit tagged: origin/<mainBranch> after fetching. */
  commit: string;
  /** How the version was chosen: `--version`, `--bump <kind>` or the conventional commits. */
  source: string;
  notes: string;
  dryRun: boolean;
  /** 'created' when this run pushed the tag, 'unchanged' when origin already had exactly it, null on --dry-run. */
  pushed: 'created' | 'unchanged' | null;
}

/**
 * The command that runs this release again with `flag` added: the Nx target when Nx is running us
 * (`nx run release:api`), else the CLI.
 */
function rerunWith(env: Env, service: string, flag: string): string {
  const project = env['NX_TASK_TARGET_PROJECT'];
  const target = env['NX_TASK_TARGET_TARGET'];
  if (project && target) return `npx nx run ${project}:${target} -- ${flag}`;
  return `slipway release ${service} ${flag}`;
}

/**
 * `slipway release <service>` (CONTRACT §3), what `nx run release:<service>` runs: create the
 * next release tag at origin/<mainBranch> HEAD, annotated with the release notes, and push it —
 * one tag per push. Refuses (exit 3) a tag that exists (tags are immutable) and a version that
 * is not above the stream's highest; a first release takes its project's package.json version, else needs --version (exit 2).
 * --dry-run fetches like a real run but creates and pushes nothing.
 */
export const release: Handler = async ({ args, options }, ctx) => {
  const ws = await openWorkspace(ctx);
  const service = String(args['service']);
  ws.service(service);
  const { scheme, mainBranch } = ws.config;
  if (scheme === 'staging-line') {
    throw new UsageError(
      `the staging-line scheme has no release command: X.Y.Z is cut by \`slipway ci\` when ${mainBranch} is pushed (promoting the staging image), from the version in the root package.json`,
    );
  }
  const explicit = options['version'] as string | undefined;
  const { bump, preid } = bumpOptions(ws, options);

  const git = ws.git();
  // origin is the truth for both the commit to tag and the tags that exist (one fetch for both);
  // the plan reads the work tree's state for the project graph while it runs.
  const fetched = git.fetchBranchAndTags(mainBranch).then((commit) => ({ ref: `origin/${mainBranch}`, commit }));
  const { plan, details, tagNames } = await planReleases(ws, { services: [service], head: fetched, bump, preid });
  const { commit } = plan.head;
  const row = plan.services[0];
  const detail = details.get(service);
  if (!row || !detail) throw new Error(`no plan for ${service}`);

  let version: string;
  let source: string;
  if (explicit !== undefined) {
    parseVersion(explicit);
    version = explicit;
    source = '--version';
  } else if (detail.error) {
    throw detail.error;
  } else if (row.firstRelease && row.nextVersion === null) {
    const where = detail.firstVersionFile ? `${detail.firstVersionFile} has no version to start from` : 'no version to start from';
    throw new UsageError(`${service} has no release tag yet and ${where}, so its first version is yours to choose: ${rerunWith(ctx.env, service, '--version 0.1.0')} (or 1.0.0)`);
  } else if (row.nextVersion === null) {
    return {
      data: { service, released: false, reason: row.note, lastTag: row.lastTag, commit },
      human: `${service}: ${row.note}; nothing to release. Use --bump or --version to release anyway.`,
    };
  } else {
    version = row.nextVersion;
    source = row.firstRelease
      ? `"version" in ${detail.firstVersionFile ?? 'package.json'} (first release)`
      : bump === undefined
        ? `conventional commits (${row.bump ?? 'none'})`
        : `--bump ${bump}`;
  }

  const classify = { scheme, services: ws.config.services, service } as ClassifyOptions & { service: string };
  const tag = releaseTag(version, classify);
  // After fetchTags the clone has every tag origin has; a tag pushed since is caught by pushTag.
  if (tagNames.has(tag)) {
    const existing = await git.resolveCommit(`refs/tags/${tag}`);
    throw new PolicyError(
      'E_TAG_EXISTS',
      `${tag} already exists (at ${existing.slice(0, 7)}); tags are immutable, so bump instead: slipway release ${service} --bump patch (or --version above ${row.lastVersion ?? version})`,
    );
  }
  const highest = detail.highest;
  if (highest?.version && compareVersions(version, highest.version) <= 0) {
    throw new PolicyError('E_VERSION_NOT_ABOVE', `${version} is not above ${highest.tag}, the highest release of ${scheme === 'per-service' ? service : 'this workspace'}; versions only go up`);
  }

  // A tag is the start of a publish: one whose build cannot work is never pushed.
  await assertBuildable(ws, [ws.service(service)], { commit, version });

  const previousTag = row.lastTag;
  const notes = renderNotes({
    service: scheme === 'per-service' ? service : undefined,
    version,
    tag,
    previousTag: previousTag ?? undefined,
    commits: detail.notesCommits,
    repository: ws.config.repository,
    date: new Date(),
  });
  const result: ReleaseResult = { service, tag, version, previousTag, commit, source, notes, dryRun: ctx.dryRun, pushed: null };
  const where = `${commit.slice(0, 7)} (origin/${mainBranch})`;
  if (ctx.dryRun) {
    return { data: result, human: `Would tag ${tag} at ${where} and push it (${source}). Dry run: nothing was written.\n\n${notes}` };
  }

  const tagObject = await git.createTag({ name: tag, commit, message: notes });
  try {
    result.pushed = await git.pushTag(tag);
  } catch (error) {
    // The tag exists only here: drop it, so running the same command again is a true retry (if
    // the push did land, the re-run sees origin's tag and has nothing left to release).
    const dropped = await git.deleteTag(tag, tagObject).catch(() => false);
    ctx.out.warn(
      dropped
        ? `${tag} was not pushed; the local tag was removed, so re-running this command is safe`
        : `${tag} was created locally but not pushed; push it with \`git push origin refs/tags/${tag}\`, or drop it with \`git tag -d ${tag}\``,
    );
    throw error;
  }
  return {
    data: result,
    human: `Tagged ${tag} at ${where} and pushed it (${source}). CI publishes it from the tag push (slipway publish ${tag}).\n\n${notes}`,
  };
};
