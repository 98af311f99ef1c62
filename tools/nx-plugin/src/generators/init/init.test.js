import { readJson, readNxJson, writeJson } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyInit, serviceNameOf, workflowsFor, workflowTemplatesDir } from './init.js';

const version = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'))).version;

const facts = {
  projects: [
    { name: '@acme/api', root: 'apps/api', type: 'app' },
    { name: 'web', root: 'apps/web', type: 'app' },
    { name: 'web-e2e', root: 'apps/web-e2e', type: 'e2e' },
    { name: 'shared', root: 'libs/shared', type: 'lib' },
    { name: '@acme/source', root: '.', type: 'app' },
  ],
};

/** Every file the tree holds, with its text, so two states can be compared whole. */
function snapshot(tree) {
  const files = {};
  const walk = (dir) => {
    for (const child of tree.children(dir)) {
      const path = dir === '' ? child : `${dir}/${child}`;
      if (tree.isFile(path)) files[path] = tree.read(path, 'utf-8');
      else walk(path);
    }
  };
  walk('');
  return files;
}

describe('nx g @slipway/nx-plugin:init', () => {
  it('registers the plugin, writes one service per application, adds the release project and the CLI', async () => {
    const tree = createTreeWithEmptyWorkspace();
    const task = await applyInit(tree, { skipFormat: true }, { ...facts, repository: 'Acme/platform' });

    expect(readNxJson(tree).plugins).toContain('@slipway/nx-plugin');
    expect(readJson(tree, 'services.json')).toEqual({
      $schema: './node_modules/@slipway/config/services.schema.json',
      repository: 'Acme/platform',
      registry: 'ghcr.io/acme',
      services: { api: { project: '@acme/api' }, web: { project: 'web' } },
    });
    expect(readJson(tree, 'tools/release/project.json')).toMatchObject({ name: 'release', tags: ['slipway'] });
    expect(readJson(tree, 'package.json').devDependencies['@slipway/release']).toBe(`^${version}`);
    expect(typeof task).toBe('function');
  });

  it('running it again changes nothing', async () => {
    const tree = createTreeWithEmptyWorkspace();
    await applyInit(tree, { skipFormat: true }, facts);
    const before = snapshot(tree);
    const withRelease = { projects: [...facts.projects, { name: 'release', root: 'tools/release', type: 'lib' }] };
    const task = await applyInit(tree, { skipFormat: true }, withRelease);
    expect(snapshot(tree)).toEqual(before);
    expect(task).toBeUndefined();
  });

  it('never overwrites an existing services.json, and says so', async () => {
    const tree = createTreeWithEmptyWorkspace();
    writeJson(tree, 'services.json', { services: { mine: { root: 'apps/mine' } } });
    await applyInit(tree, { skipFormat: true }, facts);
    expect(readJson(tree, 'services.json')).toEqual({ services: { mine: { root: 'apps/mine' } } });
    expect(readNxJson(tree).plugins).toContain('@slipway/nx-plugin');
  });

  it('a workspace without applications is a clear error, and nothing is written', async () => {
    const tree = createTreeWithEmptyWorkspace();
    const before = snapshot(tree);
    await expect(applyInit(tree, { skipFormat: true }, { projects: [{ name: 'shared', root: 'libs/shared', type: 'lib' }] })).rejects.toThrow(
      /No application projects in this workspace.*Nothing was written/,
    );
    expect(snapshot(tree)).toEqual(before);
  });

  it('keeps the version of @slipway/release the workspace already has', async () => {
    const tree = createTreeWithEmptyWorkspace();
    writeJson(tree, 'package.json', { name: 'acme', devDependencies: { '@slipway/release': '0.0.9' } });
    const task = await applyInit(tree, { skipFormat: true }, facts);
    expect(readJson(tree, 'package.json').devDependencies['@slipway/release']).toBe('0.0.9');
    expect(task).toBeUndefined();
  });

  it('uses an existing project named release instead of adding one', async () => {
    const tree = createTreeWithEmptyWorkspace();
    await applyInit(tree, { skipFormat: true }, { projects: [...facts.projects, { name: 'release', root: 'apps/release', type: 'app' }] });
    expect(tree.exists('tools/release/project.json')).toBe(false);
    expect(Object.keys(readJson(tree, 'services.json').services)).toEqual(['api', 'web']);
  });
});

describe('nx g @slipway/nx-plugin:init --workflows', () => {
  const templates = workflowTemplatesDir();
  const template = (file) => readFileSync(join(templates, file), 'utf8');
  const workflows = (tree) => (tree.exists('.github/workflows') ? tree.children('.github/workflows').sort() : []);

  it('writes the per-service workflows, byte for byte the documented ones, and none without the flag', async () => {
    const without = createTreeWithEmptyWorkspace();
    await applyInit(without, { skipFormat: true }, facts);
    expect(workflows(without)).toEqual([]);

    const tree = createTreeWithEmptyWorkspace();
    await applyInit(tree, { skipFormat: true, workflows: true }, facts);
    expect(workflows(tree)).toEqual(['pr.yml', 'promote.yml', 'release-affected.yml', 'release.yml']);
    for (const file of workflows(tree)) expect(tree.read(`.github/workflows/${file}`, 'utf-8')).toBe(template(file));
  });

  it.each([
    ['single', {}, ['pr.yml', 'promote.yml', 'single.yml']],
    ['staging-line', {}, ['pr.yml', 'promote.yml', 'staging-line.yml']],
    ['per-service', { api: { project: 'api', build: { type: 'prebuilt', from: '{image}:sha-{sha7}' } } }, ['chain.yml', 'pr.yml', 'promote.yml', 'release-affected.yml']],
  ])('follows the scheme of an existing services.json: %s', async (scheme, services, expected) => {
    const tree = createTreeWithEmptyWorkspace();
    writeJson(tree, 'services.json', { scheme, services: { api: { project: 'api' }, ...services } });
    await applyInit(tree, { skipFormat: true, workflows: true }, facts);
    expect(workflows(tree)).toEqual(expected);
    expect(workflowsFor({ scheme, services })).toEqual(expect.arrayContaining(expected));
  });

  it('never overwrites an existing workflow, and a second run changes nothing', async () => {
    const tree = createTreeWithEmptyWorkspace();
    tree.write('.github/workflows/release.yml', 'name: ours\n');
    await applyInit(tree, { skipFormat: true, workflows: true }, facts);
    expect(tree.read('.github/workflows/release.yml', 'utf-8')).toBe('name: ours\n');
    expect(tree.read('.github/workflows/pr.yml', 'utf-8')).toBe(template('pr.yml'));
    const before = snapshot(tree);
    await applyInit(tree, { skipFormat: true, workflows: true }, facts);
    expect(snapshot(tree)).toEqual(before);
  });

  it('every documented workflow is offered for some scheme', () => {
    const offered = new Set(['single', 'staging-line', 'per-service'].flatMap((scheme) => [...workflowsFor({ scheme }), ...workflowsFor({ scheme, services: { a: { build: { type: 'prebuilt' } } } })]));
    expect([...offered].sort()).toEqual(readdirSync(templates).filter((f) => f.endsWith('.yml')).sort());
  });
});

it.each([
  ['@acme/api', 'api'],
  ['api', 'api'],
  ['Web_App', 'web-app'],
  ['@acme/2fa', 'svc-2fa'],
  ['a--b', 'a-b'],
])('service name for project %s is %s', (project, service) => {
  expect(serviceNameOf(project)).toBe(service);
});
