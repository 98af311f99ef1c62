import { describe, expect, it } from 'vitest';
import { gitWorkspace, nxWorkspace } from '../../test/git-workspace.js';
import type { ReleasePlan, ServicePlan } from '../release-plan.js';

const row = (plan: ReleasePlan, service: string): ServicePlan => {
  const found = plan.services.find((s) => s.service === service);
  if (!found) throw new Error(`no row for ${service}`);
  return found;
};

/** What `git log <range> -- <paths>` lists, newest first: the answer plan must match. */
async function gitLog(repo: { git(...args: string[]): Promise<string> }, range: string, ...paths: string[]): Promise<string[]> {
  return (await repo.git('log', '--format=%H', range, '--', ...paths)).split('\n').filter(Boolean);
}

const rooted = { api: { root: 'apps/api' }, web: { root: 'apps/web' } };

describe('slipway plan', () => {
  it('across three Nx services, a shared lib change affects the two that depend on it', async () => {
    const ws = await nxWorkspace({ services: { api: {}, web: {}, worker: {} } });
    for (const s of ['api', 'web', 'worker']) await ws.release(`${s}/v1.0.0`);
    const fix = await ws.land('fix(shared): handle empty input (#12)', { 'libs/shared/index.js': 'export const shared = 2;\n' });
    const docs = await ws.land('docs: contributing guide', { 'CONTRIBUTING.md': 'hi\n' });
    // Committed but not pushed: plan reads origin/main, so this is not in the plan.
    await ws.repo.commit('feat(worker): local only', { 'apps/worker/index.js': 'export const worker = 2;\n' });

    const { exitCode, data } = await ws.json<ReleasePlan>('plan');
    expect(exitCode).toBe(0);
    expect(data.head).toEqual({ ref: 'origin/main', commit: docs });
    expect(data.history.gitLogPasses).toBe(1);
    expect(row(data, 'api')).toMatchObject({
      lastTag: 'api/v1.0.0',
      roots: expect.arrayContaining(['apps/api', 'libs/shared']),
      affected: true,
      commits: [{ sha: fix, type: 'fix', scope: 'shared', pr: 12, breaking: false }],
      bump: 'patch',
      nextVersion: '1.0.1',
      nextTag: 'api/v1.0.1',
      nextTagExists: false,
    });
    expect(row(data, 'web')).toMatchObject({ affected: true, nextTag: 'web/v1.0.1' });
    expect(row(data, 'worker')).toMatchObject({ affected: false, commits: [], nextVersion: null, nextTag: null, note: 'nothing to release since worker/v1.0.0' });

    const radius = data.blastRadius;
    expect(radius.commits.map((c) => c.sha)).toEqual([docs, fix]);
    expect(radius.services.map((s) => [s.name, s.commits.length, s.fixes])).toEqual([
      ['api', 1, 1],
      ['web', 1, 1],
      ['worker', 0, 0],
    ]);
    expect(radius.unattributed).toEqual([docs]);
  });

  it('shows a table and the blast radius to a person', async () => {
    const ws = await gitWorkspace({ services: rooted });
    await ws.release('api/v1.0.0');
    await ws.release('web/v2.3.0');
    await ws.land('feat(api)!: remove v1 routes', { 'apps/api/a.js': '1' });
    const { exitCode, stdout } = await ws.slipway('plan');
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/^Plan at origin\/main \([0-9a-f]{7}\), per-service scheme\n/);
    expect(stdout).toMatch(/\napi +api\/v1\.0\.0 +1 +yes +api\/v2\.0\.0 +1 commit: conventional commits call for major\n/);
    expect(stdout).toMatch(/\nweb +web\/v2\.3\.0 +0 +no +- +nothing to release since web\/v2\.3\.0\n/);
    expect(stdout).toContain('Breaking changes:');
  });

  it('the blast radius of a plan for some services leaves other services\' work out', async () => {
    const ws = await gitWorkspace({ services: rooted });
    await ws.release('api/v1.0.0');
    await ws.release('web/v1.0.0');
    const apiFix = await ws.land('fix(api): a', { 'apps/api/a.js': '1' });
    await ws.land('feat(web): b', { 'apps/web/w.js': '1' });
    const ci = await ws.land('ci: workflow', { '.github/workflows/ci.yml': 'on: push\n' });

    const { data } = await ws.json<ReleasePlan>('plan', 'api');
    expect(data.blastRadius).toMatchObject({ deployed: 'api/v1.0.0', unattributed: [ci] });
    expect(data.blastRadius.commits.map((c) => c.sha)).toEqual([ci, apiFix]);
  });

  it('continues a prerelease line, and starts it over when the commits need more', async () => {
    const ws = await gitWorkspace({ services: rooted });
    await ws.land('feat(api): one', { 'apps/api/a.js': '1' });
    await ws.release('api/v1.2.0');
    await ws.land('feat(api): two', { 'apps/api/a.js': '2' });
    await ws.release('api/v1.3.0-rc.1');
    // web: a prerelease below its latest stable is history, not a line.
    await ws.release('web/v1.0.0-rc.1');
    await ws.release('web/v1.0.0');
    await ws.land('fix(api): three', { 'apps/api/a.js': '3', 'apps/web/w.js': '3' });

    let { data } = await ws.json<ReleasePlan>('plan');
    expect(row(data, 'api')).toMatchObject({ lastTag: 'api/v1.3.0-rc.1', prereleaseLine: true, bump: 'prerelease', nextTag: 'api/v1.3.0-rc.2' });
    expect(row(data, 'web')).toMatchObject({ lastTag: 'web/v1.0.0', prereleaseLine: false, nextTag: 'web/v1.0.1' });

    await ws.land('feat(api)!: new protocol', { 'apps/api/a.js': '4' });
    ({ data } = await ws.json<ReleasePlan>('plan', 'api'));
    expect(data.services.map((s) => s.service)).toEqual(['api']);
    expect(row(data, 'api')).toMatchObject({ prereleaseLine: true, nextTag: 'api/v2.0.0-rc.0' });

    // Leaving the line is deliberate.
    ({ data } = await ws.json<ReleasePlan>('plan', 'api', '--bump', 'patch'));
    expect(row(data, 'api')).toMatchObject({ bump: 'patch', nextTag: 'api/v1.3.0' });
  });

  it('a first release has no next version until one is given', async () => {
    const ws = await gitWorkspace({ services: rooted });
    await ws.land('feat(api): hello', { 'apps/api/a.js': '1' });
    const { data } = await ws.json<ReleasePlan>('plan', 'api');
    expect(row(data, 'api')).toMatchObject({ lastTag: null, firstRelease: true, affected: true, nextVersion: null, nextTag: null });
    expect(row(data, 'api').note).toMatch(/first release.*--version/);
    // Without any release the log starts at the root: everything on main touching api.
    expect(data.history.base).toBeNull();
  });

  it('a new service beside released ones: its own folder\'s history, while the shared log still starts at the releases', async () => {
    const ws = await gitWorkspace({ services: { ...rooted, db: { root: 'apps/db' } } });
    const early = await ws.land('feat(db): schema', { 'apps/db/schema.sql': '1' });
    await ws.land('chore: root tooling', { 'tools.txt': '1' });
    const released = await ws.land('feat(api): hello', { 'apps/api/a.js': '1' });
    await ws.release('api/v1.0.0');
    await ws.release('web/v1.0.0');
    const later = await ws.land('fix(db): index', { 'apps/db/schema.sql': '2' });

    const { data } = await ws.json<ReleasePlan>('plan');
    expect(data.history).toMatchObject({ base: released, gitLogPasses: 2 });
    expect(row(data, 'db')).toMatchObject({ firstRelease: true, affected: true, commits: [{ sha: later }, { sha: early }] });
    expect(row(data, 'api')).toMatchObject({ affected: false, commits: [] });
  });

  it('reads one log for many services and walks each tag within it, even across merges', async () => {
    const ws = await gitWorkspace({ services: { ...rooted, db: { root: 'apps/db' } } });
    const { repo } = ws;
    await ws.land('feat(db): schema', { 'apps/db/s.sql': '1' });
    await ws.release('db/v0.1.0');
    await repo.git('checkout', '--quiet', '-b', 'topic');
    const side = await repo.commit('fix(api): side branch work', { 'apps/api/a.js': 'side' });
    await repo.git('checkout', '--quiet', 'main');
    await repo.commit('feat(web): on main', { 'apps/web/w.js': '1' });
    await repo.git('merge', '--quiet', '--no-ff', '-m', 'Merge pull request #7 from acme/topic', 'topic');
    await repo.push();
    const merge = await repo.revParse('HEAD');
    await ws.release('web/v1.0.0');
    await ws.release('api/v1.0.0', 'HEAD~1');
    const after = await ws.land('fix(db): index', { 'apps/db/s.sql': '2', 'apps/web/w.js': '2', 'apps/api/a.js': '2' });

    const { data } = await ws.json<ReleasePlan>('plan');
    expect(data.history.gitLogPasses).toBe(1);
    expect(data.history.base).toBe(await repo.revParse('db/v0.1.0'));
    // web was released at the merge: the side branch came in with it.
    expect(row(data, 'web').commits.map((c) => c.sha)).toEqual([after]);
    expect(row(data, 'db').commits.map((c) => c.sha)).toEqual([after]);
    // api was released on main before the merge: the side commit is unreleased. The merge brought
    // exactly the side's api file, so `git log api/v1.0.0..main -- apps/api` does not list it.
    expect(row(data, 'api').commits.map((c) => c.sha)).toEqual([after, side]);
    expect(row(data, 'api').commits.map((c) => c.sha)).toEqual(await gitLog(repo, 'api/v1.0.0..origin/main', 'apps/api'));
    expect(row(data, 'api').commits.some((c) => c.sha === merge)).toBe(false);
  });

  it('a release tag cut off main (not on its history) is ignored for versioning and named', async () => {
    const ws = await gitWorkspace({ services: rooted });
    const { repo } = ws;
    await ws.land('feat(api): first', { 'apps/api/a.js': '0' });
    await ws.release('api/v1.0.0');
    const shared = await ws.land('feat(api): before the fork', { 'apps/api/a.js': '1' });
    await ws.release('web/v1.0.0');
    await repo.git('checkout', '--quiet', '-b', 'hotfix');
    await repo.commit('fix(api): hotfix only', { 'apps/api/a.js': 'hot' });
    await ws.release('api/v1.0.1');
    await repo.git('checkout', '--quiet', 'main');
    const onMain = await ws.land('fix(api): on main', { 'apps/api/a.js': '2' });

    const { data } = await ws.json<ReleasePlan>('plan');
    expect(data.history.gitLogPasses).toBe(1);
    expect(row(data, 'api')).toMatchObject({ lastTag: 'api/v1.0.0', ignoredTags: ['api/v1.0.1'], bump: 'minor', nextTag: 'api/v1.1.0' });
    expect(row(data, 'api').commits.map((c) => c.sha)).toEqual([onMain, shared]);
    expect(row(data, 'web').affected).toBe(false);
  });

  it('under single, every service reports the one v-tag stream', async () => {
    const ws = await gitWorkspace({ scheme: 'single', services: rooted });
    await ws.release('v1.4.0');
    await ws.release('vnext-checkpoint');
    await ws.land('feat(web): banner', { 'apps/web/w.js': '1' });
    const { data } = await ws.json<ReleasePlan>('plan');
    expect(row(data, 'api')).toMatchObject({ lastTag: 'v1.4.0', affected: false, nextTag: 'v1.5.0' });
    expect(row(data, 'web')).toMatchObject({ lastTag: 'v1.4.0', affected: true, nextTag: 'v1.5.0' });
    expect(data.blastRadius.deployed).toBe('v1.4.0');
  });

  it('under staging-line, the next version is the root package.json base', async () => {
    const ws = await gitWorkspace({ scheme: 'staging-line', services: rooted }, { 'package.json': '{ "version": "0.2.0" }\n' });
    await ws.release('0.1.0');
    await ws.release('0.2.0-staging.0');
    await ws.land('fix(api): x', { 'apps/api/a.js': '1' });
    const { data } = await ws.json<ReleasePlan>('plan', 'api');
    expect(row(data, 'api')).toMatchObject({ lastTag: '0.1.0', nextVersion: '0.2.0', nextTag: '0.2.0', prereleaseLine: false, affected: true });
    const bumped = await ws.slipway('plan', '--bump', 'minor');
    expect(bumped.exitCode).toBe(2);
    expect(bumped.stderr).toContain('root package.json');
  });

  it('bad input is exit 2: an unknown service, a preid without a prerelease bump, a bump that goes down', async () => {
    const ws = await gitWorkspace({ services: rooted });
    await ws.release('api/v1.0.0-rc.1');
    expect((await ws.slipway('plan', 'nope')).exitCode).toBe(2);
    expect((await ws.slipway('plan', '--preid', 'beta')).stderr).toContain('--preid only goes with --bump prerelease');
    const down = await ws.json('plan', 'api', '--bump', 'prerelease', '--preid', 'alpha');
    expect(down.exitCode).toBe(2);
    expect(down.data).toMatchObject({ error: { code: 'E_VERSION_INVALID' } });
  });

  it('--fetch brings origin up to date first; without it plan uses what the clone has', async () => {
    const ws = await gitWorkspace({ services: rooted });
    await ws.release('api/v1.0.0');
    const other = await ws.repo.clone();
    await other.commit('feat(api): from a colleague', { 'apps/api/a.js': 'x' });
    await other.push('HEAD:refs/heads/main');
    await other.tag('web/v0.1.0');
    await other.push('refs/tags/web/v0.1.0');

    let { data } = await ws.json<ReleasePlan>('plan');
    expect(row(data, 'api').affected).toBe(false);
    ({ data } = await ws.json<ReleasePlan>('plan', '--fetch'));
    expect(row(data, 'api')).toMatchObject({ affected: true, nextTag: 'api/v1.1.0' });
    expect(row(data, 'web').lastTag).toBe('web/v0.1.0');
  });
});
