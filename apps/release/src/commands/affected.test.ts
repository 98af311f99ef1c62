import { describe, expect, it } from 'vitest';
import { gitWorkspace, nxWorkspace } from '../../test/git-workspace.js';

describe('slipway affected', () => {
  it('in a real Nx workspace, a change to a shared lib lists both dependents as a matrix', async () => {
    const ws = await nxWorkspace({ services: { api: {}, web: {}, worker: {} } });
    const base = await ws.repo.revParse();
    await ws.repo.commit('fix(shared): x', { 'libs/shared/index.js': 'export const shared = 2;\n' });

    const { exitCode, data } = await ws.json('affected', '--base', base);
    expect(exitCode).toBe(0);
    expect(data).toEqual({ include: [{ service: 'api' }, { service: 'web' }] });

    const head = await ws.repo.commit('feat(worker): y', { 'apps/worker/index.js': 'export const worker = 2;\n' });
    const human = await ws.slipway('affected', '--base', `${head}~1`, '--head', head);
    expect(human).toMatchObject({ exitCode: 0, stdout: 'worker\n' });
  });

  it('counts changes outside every project as nx affected does: nx.json touches all Nx services, a README none', async () => {
    // ops has a root, so only its folder counts for it, whatever Nx says.
    const ws = await nxWorkspace({ services: { api: {}, web: {}, worker: {}, ops: { root: 'ops' } } });
    const base = await ws.repo.revParse();
    await ws.repo.commit('docs: readme', { 'README.md': 'more\n' });
    const readme = await ws.json('affected', '--base', base);
    expect(readme).toMatchObject({ exitCode: 0, data: { include: [] } });

    await ws.repo.commit('build: nx inputs', { 'nx.json': JSON.stringify({ namedInputs: { default: ['{projectRoot}/**/*'] } }) });
    const nxJson = await ws.json('affected', '--base', base);
    expect(nxJson).toMatchObject({ exitCode: 0, data: { include: [{ service: 'api' }, { service: 'web' }, { service: 'worker' }] } });
  });

  it('a service naming an Nx project that does not exist is exit 2, naming the field', async () => {
    const ws = await nxWorkspace({ services: { api: {}, billing: { project: 'billing-api' } } });
    const base = await ws.repo.revParse();
    await ws.repo.commit('fix(shared): x', { 'libs/shared/index.js': 'export const shared = 2;\n' });
    const run = await ws.slipway('affected', '--base', base);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('services.billing.project: no Nx project named "billing-api"');
  });

  it('compares from where head diverged from base, like nx affected', async () => {
    const ws = await gitWorkspace({ services: { api: { root: 'apps/api' }, web: { root: 'apps/web' } } });
    const { repo } = ws;
    await repo.git('checkout', '--quiet', '-b', 'feature');
    await repo.commit('feat(web): on the branch', { 'apps/web/w.js': '1' });
    await repo.git('checkout', '--quiet', 'main');
    await repo.commit('feat(api): main moved on', { 'apps/api/a.js': '1' });

    const { data } = await ws.json('affected', '--base', 'main', '--head', 'feature');
    expect(data).toEqual({ include: [{ service: 'web' }] });
  });

  it('a service over several roots is affected by a change in any of them', async () => {
    const ws = await gitWorkspace({ services: { api: { roots: ['services/api', 'pkg'] }, web: { root: 'services/web' } } });
    const base = await ws.repo.revParse();
    await ws.repo.commit('fix(pkg): shared helper', { 'pkg/util.go': '1' });
    const { data } = await ws.json('affected', '--base', base);
    expect(data).toEqual({ include: [{ service: 'api' }] });
  });

  it('nothing affected is an empty matrix; a missing --base or unknown ref is an error', async () => {
    const ws = await gitWorkspace({ services: { api: { root: 'apps/api' } } });
    const base = await ws.repo.revParse();
    await ws.repo.commit('docs: root readme', { 'README.md': 'more\n' });
    const none = await ws.slipway('affected', '--base', base, '--json');
    expect(none.exitCode).toBe(0);
    expect(JSON.parse(none.stdout)).toEqual({ include: [] });
    expect(none.stderr).toContain('no service affected');

    expect((await ws.slipway('affected')).exitCode).toBe(2);
    const missing = await ws.json('affected', '--base', 'nope');
    expect(missing.exitCode).toBe(1);
    expect(missing.data).toMatchObject({ error: { code: 'E_GIT_REF_NOT_FOUND' } });
  });
});
