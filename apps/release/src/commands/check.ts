import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedService } from '@slipway/config';
import { ChangelogError, changelogPathFor, readVersionChangelog } from '@slipway/notes';
import { compareVersions, parseVersion } from '@slipway/tag';
import type { Handler } from '../context.js';
import { baseFindings, buildFindings as buildConfigFindings } from '../flows/build-preflight.js';
import { planReleases, type ServiceDetail, type ServicePlan } from '../release-plan.js';
import { openWorkspace, type Workspace } from '../workspace.js';
import { bumpOptions, selectServices } from './plan.js';

export interface Finding {
  /** Stable: `E_CHECK_DOCKERFILE_MISSING`, `E_CHECK_TAG_TAKEN`, … */
  code: string;
  message: string;
}

export interface ServiceCheck {
  service: string;
  ready: boolean;
  nextVersion: string | null;
  nextTag: string | null;
  /** Problems that would stop a release; any → exit 2. */
  findings: Finding[];
  /** Worth knowing, not a problem (first release, nothing to release). */
  notes: string[];
}

/**
 * `slipway check [service…]` (CONTRACT §3), what the inferred `release-check` target runs:
 * release readiness without writing anything. Loading services.json proves the config; then per
 * service: build inputs present, next version computable and its tag free here and on origin,
 * and the changelog file where the scheme reads one. Checks the checked-out commit (HEAD), since
 * that is what CI is testing. Exit 2 when any service has a finding.
 */
export const check: Handler = async ({ args, options }, ctx) => {
  const ws = await openWorkspace(ctx);
  const services = selectServices(ws, args['service']);
  const { bump, preid } = bumpOptions(ws, options);
  const git = ws.git();
  // Whether each next tag is free on origin is asked after the plan: its ssh lookup runs now.
  git.prepareRemote();
  // Resolved while the plan reads the tags and the project graph.
  const headRead = git.resolveCommit('HEAD').then((commit) => ({ ref: 'HEAD', commit }));
  const { plan, details } = await planReleases(ws, { services, head: headRead, bump, preid });
  const head = plan.head;

  // Whether each next tag is free on origin: one ls-remote for all services, not one each.
  const asked = plan.services.filter((row) => !details.get(row.service)?.error && row.nextVersion !== null && row.nextTag !== null && !row.nextTagExists);
  const onOrigin = asked.length === 0 ? new Map<string, unknown>() : await git.remoteRefs(asked.map((row) => `refs/tags/${row.nextTag ?? ''}`));

  const results: ServiceCheck[] = [];
  for (const row of plan.services) {
    const detail = details.get(row.service) as ServiceDetail;
    const service = ws.service(row.service);
    const findings = [...(await buildFindings(ws, service, head.commit, row.nextVersion)), ...versionFindings(ws, row, detail, onOrigin)];
    if (row.nextVersion !== null && (ws.config.scheme === 'staging-line' || ws.config.changelog !== undefined)) {
      findings.push(...(await changelogFindings(ws, row.nextVersion)));
    }
    const notes = row.nextVersion === null && detail.error === undefined ? [row.note] : [];
    results.push({ service: row.service, ready: findings.length === 0, nextVersion: row.nextVersion, nextTag: row.nextTag, findings, notes });
  }

  const failing = results.filter((r) => !r.ready);
  return {
    data: { ok: failing.length === 0, head, services: results },
    human: renderChecks(results),
    ...(failing.length > 0 ? { exitCode: 2 as const } : {}),
  };
};

async function buildFindings(ws: Workspace, service: ResolvedService, commit: string, version: string | null): Promise<Finding[]> {
  const findings: Finding[] = [];
  const at = `services.${service.name}`;
  const configured = service.roots ?? [];
  for (const [i, root] of configured.entries()) {
    if (await isDirectory(join(ws.root, root))) continue;
    const field = ws.config.services[service.name]?.roots === undefined ? 'root' : `roots[${i}]`;
    findings.push({ code: 'E_CHECK_ROOT_MISSING', message: `${at}.${field}: folder ${root} does not exist` });
  }
  // Build configuration: the same findings every command that builds checks before its first side effect.
  const config = await buildConfigFindings(ws, service, { commit, version, worktree: true });
  findings.push(...config);
  // What only the base can say (a platform it lacks), asked when the configuration is otherwise sound.
  if (config.length === 0) findings.push(...(await baseFindings(ws, service)));
  return findings;
}

function versionFindings(ws: Workspace, row: ServicePlan, detail: ServiceDetail, onOrigin: ReadonlyMap<string, unknown>): Finding[] {
  if (detail.error) return [{ code: 'E_CHECK_VERSION', message: `next version: ${detail.error.message}` }];
  if (row.nextVersion === null || row.nextTag === null) return [];
  const taken = row.nextTagExists ? 'in this clone' : onOrigin.has(`refs/tags/${row.nextTag}`) ? 'on origin' : undefined;
  if (taken !== undefined) {
    const fix = ws.config.scheme === 'staging-line' ? 'bump the version in the root package.json' : 'fetch the tags (git fetch origin --tags) and plan again';
    return [{ code: 'E_CHECK_TAG_TAKEN', message: `next tag ${row.nextTag} already exists ${taken}; tags are immutable: ${fix}` }];
  }
  const highest = detail.highest;
  if (highest?.version && compareVersions(row.nextVersion, highest.version) <= 0) {
    return [{ code: 'E_CHECK_VERSION_NOT_ABOVE', message: `next version ${row.nextVersion} is not above ${highest.tag}` }];
  }
  return [];
}

async function changelogFindings(ws: Workspace, version: string): Promise<Finding[]> {
  const base = parseVersion(version).core.slice(0, 3).join('.');
  const template = ws.config.changelog?.path;
  const path = template === undefined ? changelogPathFor(base) : template.replaceAll('{version}', base);
  const content = await readFile(join(ws.root, path), 'utf8').catch(() => undefined);
  try {
    readVersionChangelog(content, { version: base, path });
    return [];
  } catch (error) {
    if (!(error instanceof ChangelogError)) throw error;
    const hint = error.code === 'E_CHANGELOG_MISSING' ? ': create it with the notes for this version' : ': write the notes for this version';
    return [{ code: error.code, message: `${error.message}${hint}` }];
  }
}

function renderChecks(results: readonly ServiceCheck[]): string {
  const lines: string[] = [];
  for (const r of results) {
    const next = r.nextTag === null ? '' : ` (next ${r.nextTag})`;
    if (r.ready) lines.push(`ok    ${r.service}${next}${r.notes.length > 0 ? `: ${r.notes.join('; ')}` : ''}`);
    else {
      lines.push(`FAIL  ${r.service}${next}`);
      for (const f of r.findings) lines.push(`      - ${f.message} [${f.code}]`);
    }
  }
  const failing = results.filter((r) => !r.ready).length;
  lines.push('', failing === 0 ? `${results.length} of ${results.length} ready to release` : `${failing} of ${results.length} not ready: fix the findings above`);
  return lines.join('\n');
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}
