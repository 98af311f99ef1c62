import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { createNodes as plugin } from './index.js';

const [pattern, createNodes] = plugin;

async function workspace(files) {
  const root = await mkdtemp(join(tmpdir(), 'slipway-nx-plugin-'));
  onTestFinished(() => rm(root, { recursive: true, force: true }));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return root;
}

const projects = {
  'apps/release/package.json': { name: '@slipway/release', nx: { name: 'release' } },
  'apps/api/package.json': { name: '@example/api', nx: { name: 'api' } },
  'apps/vault/project.json': { name: 'vault' },
  'libs/shared/package.json': { name: 'shared' },
};

async function infer(services, options) {
  const root = await workspace({ 'services.json': services, ...projects });
  const results = await createNodes(['services.json', ...Object.keys(projects)], options, { workspaceRoot: root, nxJsonConfiguration: {} });
  return Object.fromEntries(results.flatMap(([, r]) => Object.entries(r.projects)));
}

it('matches services.json and every project file', () => {
  expect(pattern).toBe('{services.json,**/package.json,**/project.json}');
});

it('infers one release target per service and release-check on each service project', async () => {
  const nodes = await infer({ services: { api: { project: 'api' }, vault: { project: 'vault' } } });
  expect(Object.keys(nodes['apps/release'].targets)).toEqual(['api', 'vault']);
  expect(nodes['apps/release'].targets.api.options.command).toBe('npx --no-install slipway release api');
  expect(nodes['apps/api'].targets['release-check'].options.command).toBe('npx --no-install slipway check api');
  expect(nodes['apps/vault'].targets['release-check'].options.command).toBe('npx --no-install slipway check vault');
  expect(nodes['libs/shared']).toBeUndefined();
});

it('adding a service to services.json adds its targets with no other edit', async () => {
  const nodes = await infer({ services: { api: {}, vault: {}, shared: { project: 'shared' } } });
  expect(Object.keys(nodes['apps/release'].targets)).toEqual(['api', 'vault', 'shared']);
  expect(nodes['libs/shared'].targets['release-check'].options.command).toBe('npx --no-install slipway check shared');
});

it('gives a service named like a built-in target a prefixed target', async () => {
  const nodes = await infer({ services: { test: { project: 'api' } } });
  expect(Object.keys(nodes['apps/release'].targets)).toEqual(['release-test']);
});

it('says which file is broken when services.json is not JSON', async () => {
  const root = await workspace({ 'services.json': '{ nope' });
  await expect(createNodes(['services.json'], undefined, { workspaceRoot: root })).rejects.toThrow(/services\.json: not valid JSON/);
});

it('infers nothing without services.json', async () => {
  const root = await workspace(projects);
  expect(await createNodes(Object.keys(projects), undefined, { workspaceRoot: root })).toEqual([]);
});

it("runs the workspace's installed CLI with node directly, not through npx", async () => {
  const root = await workspace({
    'services.json': { services: { api: { project: 'api' } } },
    ...projects,
    'node_modules/@slipway/release/package.json': { name: '@slipway/release', version: '0.1.0', exports: { './package.json': './package.json' } },
    'node_modules/@slipway/release/bin/slipway.js': '',
  });
  const results = await createNodes(['services.json', ...Object.keys(projects)], undefined, { workspaceRoot: root, nxJsonConfiguration: {} });
  const nodes = Object.fromEntries(results.flatMap(([, r]) => Object.entries(r.projects)));
  expect(nodes['apps/release'].targets.api.options.command).toBe('node node_modules/@slipway/release/bin/slipway.js release api');
  expect(nodes['apps/api'].targets['release-check'].options.command).toBe('node node_modules/@slipway/release/bin/slipway.js check api');
});
