import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCli } from '../../test/run-cli.js';
import { gitWorkspace, type GitWorkspace } from '../../test/git-workspace.js';
import type { ReleasePlan, ServicePlan } from '../release-plan.js';
import type { ReleaseResult } from './release.js';

// The shapes real monorepo histories have (issue 17): each test builds one in a real repository and
// compares plan with what git itself answers.

const row = (plan: ReleasePlan, service: string): ServicePlan => {
  const found = plan.services.find((s) => s.service === service);
  if (!found) throw new Error(`no row for ${service}`);
  return found;
};

/** `git log --format=%H <range> -- <paths>`, newest first. */
async function gitLog(ws: GitWorkspace, range: string, ...paths: string[]): Promise<string[]> {
  return (await ws.repo.git('log', '--format=%H', range, '--', ...paths)).split('\n').filter(Boolean);
}

const shas = (service: ServicePlan) => service.commits.map((c) => c.sha);

describe('plan on real histories', () => {
  it('takes the last release from main, not an abandoned prerelease branch, and never reuses its tags', async () => {
    const ws = await gitWorkspace({ services: { api: { root: 'apps/api' } } });
    const { repo } = ws;
    for (let i = 0; i <= 2; i++) {
      await ws.land(`fix(api): patch ${i}`, { 'apps/api/a.js': `${i}` });
      await ws.release(`api/v1.0.${i}`);
    }
    // A 2.0 prerelease line on a branch that was never merged; one of its tags took 1.0.3 too.
    await repo.git('checkout', '--quiet', '-b', 'next');
    for (let n = 0; n <= 2; n++) {
      await repo.commit(`feat(api)!: rewrite ${n}`, { 'apps/api/next.js': `${n}` });
      await ws.release(`api/v2.0.0-alpha.${n}`);
    }
    await ws.release('api/v1.0.3');
    await repo.git('checkout', '--quiet', 'main');
    const fix = await ws.land('fix(api): on main', { 'apps/api/a.js': 'main' });

    const { exitCode, data } = await ws.json<ReleasePlan>('plan');
    expect(exitCode).toBe(0);
    expect(row(data, 'api')).toMatchObject({
      lastTag: 'api/v1.0.2',
      prereleaseLine: false,
      bump: 'patch',
      // 1.0.3 is taken off main: the next free patch.
      nextVersion: '1.0.4',
      nextTag: 'api/v1.0.4',
      nextTagExists: false,
      ignoredTags: ['api/v1.0.3', 'api/v2.0.0-alpha.0', 'api/v2.0.0-alpha.1', 'api/v2.0.0-alpha.2'],
    });
    expect(shas(row(data, 'api'))).toEqual([fix]);
    expect(shas(row(data, 'api'))).toEqual(await gitLog(ws, 'api/v1.0.2..origin/main', 'apps/api'));
    expect(data.blastRadius.services[0]?.commits).toEqual([fix]);

    const human = await ws.slipway('plan');
    expect(human.stdout).toContain('api: 4 tags not on origin/main are ignored: api/v1.0.3, api/v2.0.0-alpha.0, api/v2.0.0-alpha.1, api/v2.0.0-alpha.2');

    const release = await ws.json<ReleaseResult>('release', 'api', '--dry-run');
    expect(release.data).toMatchObject({ tag: 'api/v1.0.4', previousTag: 'api/v1.0.2' });
    const major = await ws.json<ReleaseResult>('release', 'api', '--bump', 'major', '--dry-run');
    expect(major.data.tag).toBe('api/v2.0.0');
    const taken = await ws.json('release', 'api', '--version', '2.0.0-alpha.2', '--dry-run');
    expect(taken.exitCode).toBe(3);
  });

  it('a shallow clone (fetch-depth 1) is exit 2 saying how to fetch the history, never a wrong "first release"; unshallowed, it plans right', async () => {
    const ws = await gitWorkspace({ services: { api: { root: 'apps/api' } } });
    await ws.land('feat(api): first', { 'apps/api/a.js': '0' });
    await ws.release('api/v1.0.0');
    await ws.land('fix(api): second', { 'apps/api/a.js': '1' });
    await ws.land('feat(api): third', { 'apps/api/a.js': '2' });
    const dir = await mkdtemp(join(tmpdir(), 'slipway-shallow-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    // As actions/checkout does by default: one commit, no tags.
    await execa('git', ['clone', '--quiet', '--depth', '1', '--branch', 'main', `file://${ws.repo.origin}`, dir]);

    for (const argv of [['plan'], ['check', 'api'], ['release', 'api', '--dry-run']]) {
      const run = await runCli([...argv, '--json'], { cwd: dir });
      expect(run.exitCode, `${argv.join(' ')}: ${run.stdout}`).toBe(2);
      expect(JSON.parse(run.stdout).error.message).toContain('this clone is shallow');
      expect(JSON.parse(run.stdout).error.message).toContain('git fetch --unshallow --tags origin');
    }

    await execa('git', ['fetch', '--quiet', '--unshallow', '--tags', 'origin'], { cwd: dir });
    const plan = await runCli(['plan', '--json'], { cwd: dir });
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(row(JSON.parse(plan.stdout) as ReleasePlan, 'api')).toMatchObject({ lastTag: 'api/v1.0.0', bump: 'minor', nextVersion: '1.1.0' });
  });

  it('reads raw messages: the subject is the first line, and a footer without a blank line still breaks', async () => {
    const ws = await gitWorkspace({ services: { api: { root: 'apps/api' } } });
    await ws.land('feat(api): first', { 'apps/api/a.js': '0' });
    await ws.release('api/v1.0.0');
    const joined = await ws.land('fix(api): x\nfix(web): y', { 'apps/api/a.js': '1' });
    const breaking = await ws.land('feat(api): new auth\nBREAKING CHANGE: tokens from v1 are refused', { 'apps/api/a.js': '2' });

    const { data } = await ws.json<ReleasePlan>('plan');
    expect(row(data, 'api').commits).toEqual([
      expect.objectContaining({ sha: breaking, subject: 'feat(api): new auth', type: 'feat', breaking: true }),
      expect.objectContaining({ sha: joined, subject: 'fix(api): x', type: 'fix', scope: 'api', breaking: false }),
    ]);
    expect(row(data, 'api')).toMatchObject({ bump: 'major', nextTag: 'api/v2.0.0' });
    const notes = (await ws.json<ReleaseResult>('release', 'api', '--dry-run')).data.notes;
    expect(notes).toContain('tokens from v1 are refused');
    expect(notes).not.toContain('x fix(web)');
  });

  it('lists what git log lists across merges: no merge that only brought a side, the same blast radius', async () => {
    const ws = await gitWorkspace({ services: { api: { root: 'apps/api' }, web: { root: 'apps/web' } } });
    const { repo } = ws;
    await ws.land('feat(api): first', { 'apps/api/a.js': '0', 'apps/web/w.js': '0' });
    await ws.release('api/v1.0.0');
    await ws.release('web/v1.0.0');
    await repo.git('checkout', '--quiet', '-b', 'feature');
    await repo.commit('feat(api): on the branch', { 'apps/api/b.js': '1' });
    await repo.git('checkout', '--quiet', 'main');
    await ws.land('fix(web): meanwhile on main', { 'apps/web/w.js': '1' });
    // Syncing main into the branch brings only web's change: api's history does not list it.
    await repo.git('checkout', '--quiet', 'feature');
    await repo.git('merge', '--quiet', '--no-ff', '-m', "Merge branch 'main' into feature", 'main');
    const syncWebOnly = await repo.revParse();
    await repo.git('checkout', '--quiet', 'main');
    await ws.land('fix(api): meanwhile on main', { 'apps/api/a.js': '1' });
    // This sync brings api work to a branch with api work of its own: git lists it.
    await repo.git('checkout', '--quiet', 'feature');
    await repo.git('merge', '--quiet', '--no-ff', '-m', "Merge branch 'main' into feature", 'main');
    await repo.commit('fix(api): after syncing', { 'apps/api/b.js': '2' });
    await repo.git('checkout', '--quiet', 'main');
    await repo.git('merge', '--quiet', '--no-ff', '-m', 'Merge pull request #9 from acme/feature', 'feature');
    const pr = await repo.revParse();
    await repo.push();

    const { data } = await ws.json<ReleasePlan>('plan');
    for (const service of ['api', 'web']) {
      const expected = await gitLog(ws, `${service}/v1.0.0..origin/main`, `apps/${service}`);
      expect(shas(row(data, service))).toEqual(expected);
      const radius = data.blastRadius.services.find((s) => s.name === service)?.commits ?? [];
      expect([...radius].sort()).toEqual([...expected].sort());
    }
    const listed = data.services.flatMap((s) => shas(s));
    expect(listed).not.toContain(pr);
    expect(listed).not.toContain(syncWebOnly);
    expect(shas(row(data, 'api'))).toHaveLength(4);
    expect(shas(row(data, 'web'))).toHaveLength(1);
  });

  it('a branch that synced main before the release and merged after it: the answer is still git\'s', async () => {
    const ws = await gitWorkspace({ services: { api: { root: 'apps/api' } } });
    const { repo } = ws;
    await ws.land('feat(api): first', { 'apps/api/a.js': '0' });
    await repo.git('checkout', '--quiet', '-b', 'feature');
    await repo.commit('feat(api): branch work', { 'apps/api/b.js': '1' });
    await repo.git('checkout', '--quiet', 'main');
    const synced = await ws.land('fix(api): main work', { 'apps/api/a.js': '1' });
    await ws.land('docs: readme', { 'README.md': 'x\n' });
    await ws.release('api/v1.0.0');
    await repo.git('checkout', '--quiet', 'feature');
    await repo.git('merge', '--quiet', '--no-ff', '-m', "Merge branch 'main' into feature", synced);
    await repo.commit('fix(api): more branch work', { 'apps/api/b.js': '2' });
    await repo.git('checkout', '--quiet', 'main');
    await repo.git('merge', '--quiet', '--no-ff', '-m', 'Merge pull request #3 from acme/feature', 'feature');
    await repo.push();

    const { data } = await ws.json<ReleasePlan>('plan');
    expect(shas(row(data, 'api'))).toEqual(await gitLog(ws, 'api/v1.0.0..origin/main', 'apps/api'));
    // The sync merge's parent is an older commit of main: the replay leaves this range to git.
    expect(data.history.gitLogPasses).toBe(2);
  });

  it('a service over several roots counts every commit touching any of them, as git log does', async () => {
    const ws = await gitWorkspace({ services: { api: { roots: ['services/api', 'pkg', 'internal/auth'] }, web: { root: 'services/web' } } });
    await ws.land('feat(api): first', { 'services/api/main.go': '0' });
    await ws.release('api/v1.0.0');
    await ws.land('fix(pkg): shared helper', { 'pkg/util.go': '1' });
    await ws.land('feat(auth): tokens', { 'internal/auth/t.go': '1' });
    await ws.land('fix(web): only web', { 'services/web/w.go': '1' });
    await ws.land('fix(internal): other internal code', { 'internal/other/o.go': '1' });

    const { data } = await ws.json<ReleasePlan>('plan', 'api');
    expect(row(data, 'api').roots).toEqual(['services/api', 'pkg', 'internal/auth']);
    expect(shas(row(data, 'api'))).toEqual(await gitLog(ws, 'api/v1.0.0..origin/main', 'services/api', 'pkg', 'internal/auth'));
    expect(shas(row(data, 'api'))).toHaveLength(2);
    expect(row(data, 'api').bump).toBe('minor');

    const invalid = await gitWorkspace({ services: { api: { root: 'a', roots: ['b'] } } });
    const refused = await invalid.json('plan');
    expect(refused.exitCode).toBe(2);
    expect((refused.data as { error: { message: string } }).error.message).toContain('services.api.roots: give "root" or "roots", not both');
  });

  it('reads path-shaped tag prefixes (Go modules) prefix-safely', async () => {
    const ws = await gitWorkspace({
      services: {
        otelhttp: { root: 'instrumentation/net/http/otelhttp', tagPrefix: 'instrumentation/net/http/otelhttp/' },
        a: { root: 'a', tagPrefix: 'a/' },
        ab: { root: 'a/b', tagPrefix: 'a/b/' },
      },
    });
    await ws.land('feat: modules', { 'instrumentation/net/http/otelhttp/h.go': '0', 'a/x.go': '0', 'a/b/y.go': '0' });
    await ws.release('instrumentation/net/http/otelhttp/v0.70.0');
    await ws.release('a/v1.0.0');
    await ws.release('a/b/v3.1.0');
    const fix = await ws.land('fix(otelhttp): spans', { 'instrumentation/net/http/otelhttp/h.go': '1' });

    const { data } = await ws.json<ReleasePlan>('plan');
    expect(row(data, 'otelhttp')).toMatchObject({ lastTag: 'instrumentation/net/http/otelhttp/v0.70.0', nextTag: 'instrumentation/net/http/otelhttp/v0.70.1' });
    expect(shas(row(data, 'otelhttp'))).toEqual([fix]);
    // a/v1.0.0 is a's, never ab's; a/b/v3.1.0 is ab's, never a's.
    expect(row(data, 'a')).toMatchObject({ lastTag: 'a/v1.0.0', ignoredTags: [] });
    expect(row(data, 'ab')).toMatchObject({ lastTag: 'a/b/v3.1.0', ignoredTags: [] });
    const dry = await ws.json<ReleaseResult>('release', 'otelhttp', '--dry-run');
    expect(dry.data.tag).toBe('instrumentation/net/http/otelhttp/v0.70.1');
    const inspect = await ws.json('tag', 'inspect', 'a/b/v3.1.0');
    expect(inspect.data).toMatchObject({ service: 'ab', version: '3.1.0', kind: 'release' });
  });

  it('reads changesets-style @scope/pkg@x.y.z tags of an npm service that opts in', async () => {
    const ws = await gitWorkspace({ services: { cli: { kind: 'npm', root: 'packages/cli', tagPrefix: '@acme/cli@' } } });
    await ws.land('feat(cli): first', { 'packages/cli/index.js': '0' });
    await ws.release('@acme/cli@1.2.0');
    await ws.land('feat(cli): --json', { 'packages/cli/index.js': '1' });

    const { data } = await ws.json<ReleasePlan>('plan');
    expect(row(data, 'cli')).toMatchObject({ lastTag: '@acme/cli@1.2.0', lastVersion: '1.2.0', bump: 'minor', nextTag: '@acme/cli@1.3.0' });
    const inspect = await ws.json('tag', 'inspect', '@acme/cli@1.3.0-rc.1');
    expect(inspect.data).toMatchObject({ service: 'cli', version: '1.3.0-rc.1', kind: 'prerelease' });
    const imageService = await gitWorkspace({ services: { api: { root: 'a', tagPrefix: '@acme/api@' } } });
    const refused = await imageService.json('plan');
    expect(refused.exitCode).toBe(2);
    expect((refused.data as { error: { message: string } }).error.message).toContain('services.api.tagPrefix');
  });

  it('under single, a version-looking typo is exit 2 naming the tag it likely meant', async () => {
    const ws = await gitWorkspace({ scheme: 'single', services: { app: { root: 'app' } } });
    const typo = await ws.json<{ error: { code: string; message: string } }>('tag', 'inspect', 'v.0.8.1');
    expect(typo.exitCode).toBe(2);
    expect(typo.data.error).toMatchObject({ code: 'E_TAG_INVALID' });
    expect(typo.data.error.message).toContain('did you mean v0.8.1?');
    const checkpoint = await ws.json('tag', 'inspect', 'vnext');
    expect(checkpoint.data).toMatchObject({ kind: 'checkpoint', deploy: false });
  });
});
