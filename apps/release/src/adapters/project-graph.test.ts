import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { gitWorkspace, nxWorkspace } from '../../test/git-workspace.js';
import type { ReleasePlan } from '../release-plan.js';
import { GRAPH_CACHE } from './project-graph.js';

const pkg = (name: string, deps: Record<string, string> = {}) => JSON.stringify({ name, version: '0.0.0', private: true, dependencies: deps });
const affectedOf = (plan: ReleasePlan) => plan.services.filter((s) => s.affected).map((s) => s.service);

async function released() {
  const ws = await nxWorkspace({ services: { api: {}, web: {}, worker: {} } });
  for (const s of ['api', 'web', 'worker']) await ws.release(`${s}/v1.0.0`);
  await ws.land('fix(shared): handle empty input', { 'libs/shared/index.js': 'export const shared = 2;\n' });
  return ws;
}

describe('the Nx project graph behind plan', () => {
  it('is read from Nx once, then from the cache while the work tree is the same', async () => {
    const ws = await released();
    const first = await ws.json<ReleasePlan>('plan');
    expect(first.data.history.projectGraph).toBe('nx');
    expect(first.stderr).toContain('reading the Nx project graph');
    expect(affectedOf(first.data)).toEqual(['api', 'web']);
    expect(JSON.parse(await readFile(join(ws.repo.dir, GRAPH_CACHE), 'utf8'))).toMatchObject({ graph: { roots: { api: 'apps/api', shared: 'libs/shared' } } });
    // The workspace's .gitignore does not name .slipway; the cache ignores itself.
    expect(await ws.repo.git('status', '--porcelain')).toBe('');

    const second = await ws.json<ReleasePlan>('plan');
    expect(second.data.history.projectGraph).toBe('slipway-cache');
    expect(second.stderr).not.toContain('reading the Nx project graph');
    expect(second.data.services).toEqual(first.data.services);
  });

  it('is read again when a file Nx reads changes, committed or not', async () => {
    const ws = await released();
    expect((await ws.json<ReleasePlan>('plan')).data.history.projectGraph).toBe('nx');

    // Uncommitted: worker now depends on shared, so shared's fix is worker's too.
    await ws.repo.write({ 'apps/worker/package.json': pkg('worker', { shared: '*' }) });
    const edited = await ws.json<ReleasePlan>('plan');
    expect(edited.data.history.projectGraph).toBe('nx');
    expect(affectedOf(edited.data)).toEqual(['api', 'web', 'worker']);
    expect((await ws.json<ReleasePlan>('plan')).data.history.projectGraph).toBe('slipway-cache');

    // Undone: the first graph's key again, but only the latest graph is kept.
    await ws.repo.write({ 'apps/worker/package.json': pkg('worker') });
    const undone = await ws.json<ReleasePlan>('plan');
    expect(undone.data.history.projectGraph).toBe('nx');
    expect(affectedOf(undone.data)).toEqual(['api', 'web']);

    // A new untracked project is seen too.
    await ws.repo.write({ 'apps/extra/package.json': pkg('extra', { shared: '*' }), 'apps/extra/index.js': '' });
    expect((await ws.json<ReleasePlan>('plan')).data.history.projectGraph).toBe('nx');
  });

  it('a damaged or foreign cache file is ignored and replaced', async () => {
    const ws = await released();
    await ws.repo.write({ [GRAPH_CACHE]: '{"key": "not this one", "graph": {"roots": {}, "dependencies": {}}}' });
    const plan = await ws.json<ReleasePlan>('plan');
    expect(plan.data.history.projectGraph).toBe('nx');
    expect(affectedOf(plan.data)).toEqual(['api', 'web']);
    await ws.repo.write({ [GRAPH_CACHE]: '{ half a fi' });
    expect((await ws.json<ReleasePlan>('plan')).data.history.projectGraph).toBe('nx');
    expect((await ws.json<ReleasePlan>('plan')).data.history.projectGraph).toBe('slipway-cache');
  });

  it('inside an Nx task, takes the graph the running Nx computed', async () => {
    const ws = await released();
    // A real task: `nx run worker:plan` runs slipway, as `nx affected -t release-check` does.
    await ws.repo.write({
      'apps/worker/project.json': JSON.stringify({ targets: { plan: { command: 'node node_modules/.bin/slipway plan --json > plan.json' } } }),
    });
    await execa(process.execPath, ['node_modules/nx/dist/bin/nx.js', 'run', 'worker:plan', '--skip-nx-cache'], {
      cwd: ws.repo.dir,
      env: { ...ws.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
      extendEnv: false,
    });
    const plan = JSON.parse(await readFile(join(ws.repo.dir, 'plan.json'), 'utf8')) as ReleasePlan;
    expect(plan.history.projectGraph).toBe('nx-task');
    expect(affectedOf(plan)).toEqual(['api', 'web']);
    // Not cached under the work tree's key: earlier tasks of the run may have changed files.
    await expect(readFile(join(ws.repo.dir, GRAPH_CACHE))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('without Nx', () => {
  it('a service without root in a workspace where Nx is not installed is exit 2, saying what to do', async () => {
    const ws = await gitWorkspace({ services: { api: {} } }, { 'apps/api/index.js': '' });
    const run = await ws.json('plan');
    expect(run.exitCode).toBe(2);
    expect(run.data).toMatchObject({ error: { code: 'E_PROJECT_GRAPH', message: expect.stringMatching(/Nx is not installed in .*give every service a "root"/) } });
  });
});

describe('when Nx fails', () => {
  it("a plugin listed in nx.json but not installed is exit 2 with Nx's own message, not its internals or 'safe to retry'", async () => {
    const ws = await nxWorkspace({ services: { api: {} } }, { 'nx.json': '{ "plugins": ["@acme/not-installed"] }\n' });
    const run = await ws.json<{ error: { code: string; message: string } }>('plan');
    expect(run.exitCode).toBe(2);
    expect(run.data.error.code).toBe('E_PROJECT_GRAPH');
    expect(run.data.error.message).toContain('@acme/not-installed');
    expect(run.data.error.message).toContain('Nx says:');
    expect(run.data.error.message).not.toMatch(/Require stack|node_modules\/nx\/dist|safe to retry/);
    expect(run.stderr).not.toContain('safe to retry');
  });
});
