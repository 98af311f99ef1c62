import { describe, expect, it } from 'vitest';
import { gitWorkspace } from '../../test/git-workspace.js';
import type { ServiceCheck } from './check.js';

interface CheckJson {
  ok: boolean;
  head: { ref: string; commit: string };
  services: ServiceCheck[];
}

const byService = (data: CheckJson) => Object.fromEntries(data.services.map((s) => [s.service, s]));

describe('slipway check', () => {
  it('a ready workspace passes: exit 0, no findings, and nothing is written', async () => {
    const ws = await gitWorkspace(
      {
        registry: 'ghcr.io/acme',
        services: {
          api: { root: 'apps/api', build: { type: 'docker', context: 'apps/api' } },
          web: { root: 'apps/web', build: { type: 'layer', from: 'scratch', dir: 'apps/web/dist' } },
          edge: { root: 'apps/edge', build: { type: 'prebuilt', from: '{image}:sha-{sha7}' } },
          cli: { root: 'packages/cli', kind: 'npm' },
        },
      },
      {
        'apps/api/Dockerfile': 'FROM scratch\n',
        'apps/web/dist/index.html': '<p>hi</p>\n',
        'apps/edge/e.js': '1',
        'packages/cli/c.js': '1',
      },
    );
    await ws.release('api/v1.0.0');
    await ws.land('fix(api): x', { 'apps/api/a.js': '1' });
    const before = await ws.tags();

    const { exitCode, data } = await ws.json<CheckJson>('check');
    expect(exitCode).toBe(0);
    expect(data.ok).toBe(true);
    const s = byService(data);
    expect(s['api']).toMatchObject({ ready: true, nextTag: 'api/v1.0.1', findings: [] });
    expect(s['cli']).toMatchObject({ ready: true, nextVersion: null, findings: [] });
    expect(s['cli']?.notes[0]).toMatch(/first release/);
    expect(await ws.tags()).toEqual(before);

    const human = await ws.slipway('check', 'api');
    expect(human.stdout).toBe('ok    api (next api/v1.0.1)\n\n1 of 1 ready to release\n');
  });

  it('a missing Dockerfile and a next tag already taken on origin are findings: exit 2', async () => {
    const ws = await gitWorkspace({
      services: {
        api: { root: 'apps/api', build: { type: 'docker', context: 'apps/api' } },
        web: { root: 'apps/web', build: { type: 'docker', context: 'apps/web', dockerfile: 'docker/web.Dockerfile' } },
      },
    });
    await ws.land('feat(api): a', { 'apps/api/a.js': '1', 'apps/api/Dockerfile': 'FROM scratch\n', 'apps/web/w.js': '1' });
    await ws.release('api/v1.0.0', 'HEAD~1');
    // Someone pushed api/v1.1.0 from elsewhere; this clone does not have it.
    const other = await ws.repo.clone();
    await other.tag('api/v1.1.0', { message: 'elsewhere' });
    await other.push('refs/tags/api/v1.1.0');

    const { exitCode, data } = await ws.json<CheckJson>('check');
    expect(exitCode).toBe(2);
    expect(data.ok).toBe(false);
    const s = byService(data);
    expect(s['api']?.findings).toEqual([
      { code: 'E_CHECK_TAG_TAKEN', message: expect.stringContaining('next tag api/v1.1.0 already exists on origin') },
    ]);
    expect(s['web']?.findings).toEqual([{ code: 'E_CHECK_DOCKERFILE_MISSING', message: 'services.web.build: no Dockerfile at docker/web.Dockerfile' }]);

    const human = await ws.slipway('check', 'web');
    expect(human.exitCode).toBe(2);
    expect(human.stdout).toContain('FAIL  web\n      - services.web.build: no Dockerfile at docker/web.Dockerfile [E_CHECK_DOCKERFILE_MISSING]');
    expect(human.stdout).toContain('1 of 1 not ready');
    expect((await ws.tags()).local).toEqual(['api/v1.0.0']);
  });

  it('next tags of several services are looked up on origin together, each answered for its own service', async () => {
    const ws = await gitWorkspace({ services: { api: { root: 'apps/api' }, web: { root: 'apps/web' }, job: { root: 'apps/job' } } }, { 'apps/api/a.js': '0', 'apps/web/w.js': '0', 'apps/job/j.js': '0' });
    for (const service of ['api', 'web', 'job']) await ws.release(`${service}/v1.0.0`);
    await ws.land('feat(api): a', { 'apps/api/a.js': '1' });
    await ws.land('fix(web): w', { 'apps/web/w.js': '1' });
    await ws.land('feat(job): j', { 'apps/job/j.js': '1' });
    // Origin has web's and job's next tags (pushed from elsewhere), not api's; this clone has none of them.
    const other = await ws.repo.clone();
    await other.tag('web/v1.0.1', { message: 'elsewhere' });
    await other.tag('job/v1.1.0');
    await other.push('refs/tags/web/v1.0.1', 'refs/tags/job/v1.1.0');

    const { exitCode, data } = await ws.json<CheckJson>('check');

    expect(exitCode).toBe(2);
    const s = byService(data);
    expect(s['api']).toMatchObject({ ready: true, nextTag: 'api/v1.1.0', findings: [] });
    expect(s['web']?.findings).toEqual([{ code: 'E_CHECK_TAG_TAKEN', message: expect.stringContaining('next tag web/v1.0.1 already exists on origin') }]);
    expect(s['job']?.findings).toEqual([{ code: 'E_CHECK_TAG_TAKEN', message: expect.stringContaining('next tag job/v1.1.0 already exists on origin') }]);
  });

  it('a layer base without tag or digest is a finding, as the staging push would refuse it before reserving', async () => {
    const ws = await gitWorkspace(
      { registry: 'ghcr.io/acme', services: { web: { root: 'apps/web', build: { type: 'layer', from: 'ghcr.io/acme/node', dir: 'apps/web' } } } },
      { 'apps/web/w.js': '1' },
    );
    const { exitCode, data } = await ws.json<CheckJson>('check');
    expect(exitCode).toBe(2);
    expect(byService(data)['web']?.findings).toEqual([{ code: 'E_CHECK_LAYER_FROM', message: 'services.web.build.from: "ghcr.io/acme/node" needs a tag or digest' }]);
  });

  it('layer folders must exist with content; prebuilt templates must name one immutable image; roots must exist', async () => {
    const ws = await gitWorkspace(
      {
        registry: 'ghcr.io/acme',
        services: {
          web: { root: 'apps/web', build: { type: 'layer', from: 'scratch', dir: 'apps/web/dist' } },
          edge: { root: 'apps/edge', build: { type: 'prebuilt', from: '{image}:latest' } },
          gone: { root: 'apps/gone' },
          split: { roots: ['apps/web', 'pkg/gone'] },
        },
      },
      { 'apps/web/w.js': '1', 'apps/edge/e.js': '1' },
    );
    const { exitCode, data } = await ws.json<CheckJson>('check');
    expect(exitCode).toBe(2);
    const s = byService(data);
    expect(s['web']?.findings.map((f) => f.code)).toEqual(['E_CHECK_LAYER_DIR_MISSING']);
    expect(s['edge']?.findings.map((f) => f.code)).toEqual(['E_CHECK_PREBUILT_TEMPLATE']);
    expect(s['edge']?.findings[0]?.message).toContain('floating tag latest');
    expect(s['gone']?.findings.map((f) => f.code)).toEqual(['E_CHECK_ROOT_MISSING']);
    expect(s['split']?.findings).toEqual([{ code: 'E_CHECK_ROOT_MISSING', message: 'services.split.roots[1]: folder pkg/gone does not exist' }]);
  });

  it('staging-line: the changelog file for the package.json version must exist and say something', async () => {
    const ws = await gitWorkspace({ scheme: 'staging-line', services: { api: { root: 'apps/api' } } }, { 'package.json': '{ "version": "0.3.0" }\n', 'apps/api/a.js': '1' });
    await ws.release('0.2.0');
    await ws.land('fix(api): y', { 'apps/api/a.js': '2' });

    let run = await ws.json<CheckJson>('check');
    expect(run.exitCode).toBe(2);
    expect(byService(run.data)['api']?.findings).toEqual([
      { code: 'E_CHANGELOG_MISSING', message: expect.stringContaining('docs/development/CHANGELOGS/0.3.0.md') },
    ]);

    await ws.repo.write({ 'docs/development/CHANGELOGS/0.3.0.md': '# 0.3.0\n\n<!-- Notes for 0.3.0 -->\n' });
    run = await ws.json<CheckJson>('check');
    expect(byService(run.data)['api']?.findings.map((f) => f.code)).toEqual(['E_CHANGELOG_EMPTY']);

    await ws.repo.write({ 'docs/development/CHANGELOGS/0.3.0.md': '# 0.3.0\n\n- faster api\n' });
    run = await ws.json<CheckJson>('check');
    expect(run).toMatchObject({ exitCode: 0, data: { ok: true } });

    // The base was released already: its tag is taken until package.json moves on.
    await ws.release('0.3.0');
    run = await ws.json<CheckJson>('check');
    expect(byService(run.data)['api']?.findings).toEqual([
      { code: 'E_CHECK_TAG_TAKEN', message: expect.stringContaining('bump the version in the root package.json') },
    ]);
  });

  it('a --bump that cannot apply is a finding for that service', async () => {
    const ws = await gitWorkspace({ services: { api: { root: 'apps/api' } } }, { 'apps/api/a.js': '1' });
    await ws.release('api/v1.0.0-rc.3');
    const { exitCode, data } = await ws.json<CheckJson>('check', '--bump', 'prerelease', '--preid', 'alpha');
    expect(exitCode).toBe(2);
    expect(byService(data)['api']?.findings.map((f) => f.code)).toEqual(['E_CHECK_VERSION']);
  });
});
