import { describe, expect, it } from 'vitest';
import { gitWorkspace } from '../../test/git-workspace.js';
import { runCli } from '../../test/run-cli.js';
import type { ReleaseResult } from './release.js';

const services = { api: { root: 'apps/api' }, cli: { root: 'packages/cli', kind: 'npm' } };

describe('slipway release', () => {
  it('tags origin/main HEAD with the notes, pushes that one tag, and the next plan starts from it', async () => {
    const ws = await gitWorkspace({ services });
    await ws.release('api/v1.1.0');
    const fix = await ws.land('fix(api): retry on 503 (#21)', { 'apps/api/a.js': '1' });
    // A local commit that is not on origin must not be released.
    await ws.repo.commit('feat(api): not pushed yet', { 'apps/api/a.js': '2' });

    const { exitCode, data } = await ws.json<ReleaseResult>('release', 'api');
    expect(exitCode).toBe(0);
    expect(data).toMatchObject({ service: 'api', tag: 'api/v1.1.1', version: '1.1.1', previousTag: 'api/v1.1.0', commit: fix, dryRun: false, pushed: 'created' });
    expect(data.source).toBe('conventional commits (patch)');

    const { repo } = ws;
    expect(await repo.git('-C', repo.origin, 'rev-parse', 'api/v1.1.1^{commit}')).toBe(fix);
    expect(await repo.git('-C', repo.origin, 'cat-file', '-t', 'api/v1.1.1')).toBe('tag');
    const message = await repo.git('-C', repo.origin, 'tag', '-l', '--format=%(contents)', 'api/v1.1.1');
    expect(message).toContain('## api 1.1.1 (');
    expect(message).toContain('- **api:** retry on 503 (#21)');

    const again = await ws.json<ReleaseResult & { released?: boolean }>('release', 'api');
    expect(again.exitCode).toBe(0);
    expect(again.data).toMatchObject({ released: false, reason: 'nothing to release since api/v1.1.1' });
    expect((await ws.tags()).origin).toEqual(['api/v1.1.0', 'api/v1.1.1']);
  });

  it('a build configuration error is exit 2 before the tag is created: a tag whose publish cannot build is never pushed', async () => {
    const ws = await gitWorkspace({ services: { api: { root: 'apps/api', build: { type: 'layer', from: 'ghcr.io/acme/node', dir: 'apps/api' } } } });
    await ws.land('feat(api): x', { 'apps/api/a.js': '1' });
    const { exitCode, data } = await ws.json<{ error: { code: string; message: string } }>('release', 'api', '--version', '1.0.0');
    expect(exitCode).toBe(2);
    expect(data.error).toMatchObject({ code: 'E_BUILD_CONFIG', message: expect.stringContaining('services.api.build.from') });
    expect(await ws.tags()).toEqual({ local: [], origin: [] });
  });

  it('--dry-run prints the plan and notes and writes no tag, locally or on origin', async () => {
    const ws = await gitWorkspace({ services });
    await ws.release('api/v1.0.0');
    await ws.land('feat(api): search', { 'apps/api/a.js': '1' });
    const before = await ws.tags();

    const { exitCode, stdout } = await ws.slipway('release', 'api', '--dry-run');
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/^Would tag api\/v1\.1\.0 at [0-9a-f]{7} \(origin\/main\) and push it \(conventional commits \(minor\)\)\. Dry run: nothing was written\./);
    expect(stdout).toContain('### Features\n\n- **api:** search (');
    expect(await ws.tags()).toEqual(before);

    const json = await ws.json<ReleaseResult>('release', 'api', '--dry-run', '--bump', 'major');
    expect(json.data).toMatchObject({ tag: 'api/v2.0.0', dryRun: true, pushed: null, source: '--bump major' });
    expect(await ws.tags()).toEqual(before);
  });

  it('notes for a range with breaking changes and PR numbers link to GitHub', async () => {
    const ws = await gitWorkspace({ repository: 'acme/platform', services });
    await ws.release('api/v1.4.2');
    const breaking = await ws.land('feat(api)!: drop the v1 routes (#41)\n\nBREAKING CHANGE: clients must call /v2.', { 'apps/api/a.js': '1' });
    await ws.land('fix(api): keep-alive (#42)', { 'apps/api/a.js': '2' });
    await ws.land('docs(api): readme', { 'apps/api/README.md': 'x' });
    await ws.land('feat(cli): unrelated', { 'packages/cli/c.js': 'x' });

    const { exitCode, data } = await ws.json<ReleaseResult>('release', 'api', '--dry-run');
    expect(exitCode).toBe(0);
    expect(data.version).toBe('2.0.0');
    const notes = data.notes;
    expect(notes).toMatch(/^## api 2\.0\.0 \(\d{4}-\d{2}-\d{2}\)\n/);
    expect(notes).toContain('### Breaking changes\n\n- **api:** drop the v1 routes ([#41](https://github.com/acme/platform/pull/41))\n\n  clients must call /v2.');
    expect(notes).toContain('### Bug fixes\n\n- **api:** keep-alive ([#42](https://github.com/acme/platform/pull/42))');
    expect(notes).toContain('### Other changes\n\n- docs(api): readme ([');
    expect(notes).not.toContain('unrelated');
    expect(notes).toContain('**Full Changelog**: https://github.com/acme/platform/compare/api/v1.4.2...api/v2.0.0');
    expect(breaking).toMatch(/^[0-9a-f]{40}$/);
  });

  it('a first release needs an explicit --version (exit 2), then takes it', async () => {
    const ws = await gitWorkspace({ services });
    await ws.land('feat(cli): first command', { 'packages/cli/c.js': '1' });

    const refused = await ws.slipway('release', 'cli');
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('cli has no release tag yet');
    expect(refused.stderr).toContain('slipway release cli --version 0.1.0');
    const bumped = await ws.slipway('release', 'cli', '--bump', 'minor');
    expect(bumped.exitCode).toBe(2);
    expect((await ws.tags()).origin).toEqual([]);

    const { exitCode, data } = await ws.json<ReleaseResult>('release', 'cli', '--version', '0.1.0');
    expect(exitCode).toBe(0);
    expect(data).toMatchObject({ tag: 'cli/v0.1.0', previousTag: null, pushed: 'created' });
    expect(data.notes).toContain('- **cli:** first command (');
    expect((await ws.tags()).origin).toEqual(['cli/v0.1.0']);
  });

  it("a first release starts from the version in the project's package.json at origin/main, and says so", async () => {
    const ws = await gitWorkspace({ services });
    await ws.land('feat(cli): first command', { 'packages/cli/package.json': '{ "name": "@acme/cli", "version": "0.3.0" }\n' });

    const planned = await ws.json<ReleaseResult>('release', 'cli', '--dry-run');
    expect(planned.exitCode).toBe(0);
    expect(planned.data).toMatchObject({ tag: 'cli/v0.3.0', version: '0.3.0', previousTag: null, pushed: null, source: '"version" in packages/cli/package.json (first release)' });
    expect((await ws.tags()).origin).toEqual([]);

    // The placeholder generators write is no choice: the exact command to run is named, through
    // Nx when Nx is the one running slipway.
    await ws.land('chore(cli): placeholder version', { 'packages/cli/package.json': '{ "name": "@acme/cli", "version": "0.0.0" }\n' });
    const viaNx = await runCli(['release', 'cli', '--dry-run'], { cwd: ws.repo.dir, env: { ...ws.env, NX_TASK_TARGET_PROJECT: 'release', NX_TASK_TARGET_TARGET: 'cli' } });
    expect(viaNx.exitCode).toBe(2);
    expect(viaNx.stderr).toContain('packages/cli/package.json has no version to start from');
    expect(viaNx.stderr).toContain('npx nx run release:cli -- --version 0.1.0');

    await ws.land('chore(cli): broken version', { 'packages/cli/package.json': '{ "name": "@acme/cli", "version": "one" }\n' });
    const bad = await ws.slipway('release', 'cli', '--dry-run');
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('packages/cli/package.json: "version" is "one"');
  });

  it('refuses a tag that exists on origin (exit 3: tags are immutable) and a version that is not above the highest', async () => {
    const ws = await gitWorkspace({ services });
    await ws.release('api/v1.0.0');
    await ws.land('fix(api): x', { 'apps/api/a.js': '1' });
    // A colleague released 1.0.1 from another clone; this clone has not fetched it.
    const other = await ws.repo.clone();
    await other.tag('api/v1.0.1', { message: 'theirs' });
    await other.push('refs/tags/api/v1.0.1');

    const taken = await ws.json('release', 'api', '--version', '1.0.1');
    expect(taken.exitCode).toBe(3);
    expect(taken.data).toMatchObject({ error: { code: 'E_TAG_EXISTS' } });
    expect((taken.data as { error: { message: string } }).error.message).toMatch(/api\/v1\.0\.1 already exists .*tags are immutable, so bump instead/);

    const lower = await ws.json('release', 'api', '--version', '0.9.0');
    expect(lower.exitCode).toBe(3);
    expect(lower.data).toMatchObject({ error: { code: 'E_VERSION_NOT_ABOVE' } });

    // Without --version, the plan counts from the fetched 1.0.1, which already holds the fix.
    const next = await ws.json('release', 'api', '--dry-run');
    expect(next).toMatchObject({ exitCode: 0, data: { released: false, reason: 'nothing to release since api/v1.0.1' } });
    expect((await ws.tags()).origin).toEqual(['api/v1.0.0', 'api/v1.0.1']);
  });

  it('bad input: unknown service, malformed version; staging-line has no release command', async () => {
    const ws = await gitWorkspace({ services });
    expect((await ws.slipway('release', 'nope', '--version', '1.0.0')).exitCode).toBe(2);
    const bad = await ws.json('release', 'api', '--version', '1.0');
    expect(bad.exitCode).toBe(2);
    const staging = await gitWorkspace({ scheme: 'staging-line', services });
    const refused = await staging.slipway('release', 'api', '--version', '1.0.0');
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('slipway ci');
  });

  it('under single, releasing any service tags the shared v-stream', async () => {
    const ws = await gitWorkspace({ scheme: 'single', services });
    await ws.release('v1.4.0');
    await ws.land('feat(cli): flag', { 'packages/cli/c.js': '1' });
    const { exitCode, data } = await ws.json<ReleaseResult>('release', 'api');
    expect(exitCode).toBe(0);
    expect(data).toMatchObject({ tag: 'v1.5.0', previousTag: 'v1.4.0', pushed: 'created' });
    expect(data.notes).toMatch(/^## 1\.5\.0 /);
  });
});
