import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { ConfigError, findWorkspaceRoot, loadConfig } from './index.js';

async function tempWorkspace(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-config-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

it('finds the workspace root from a nested folder', async () => {
  const root = await tempWorkspace();
  await writeFile(join(root, 'services.json'), JSON.stringify({ services: { api: {} } }));
  await mkdir(join(root, 'apps', 'api', 'src'), { recursive: true });
  expect(await findWorkspaceRoot(join(root, 'apps', 'api', 'src'))).toBe(root);
  const loaded = await loadConfig({ start: join(root, 'apps', 'api') });
  expect(loaded).toMatchObject({ root, path: join(root, 'services.json') });
  expect(Object.keys(loaded.config.services)).toEqual(['api']);
});

it('says where it looked when there is no services.json', async () => {
  const root = await tempWorkspace();
  await expect(findWorkspaceRoot(root)).rejects.toThrow(/no services\.json found in .* or any folder above it/);
  await expect(loadConfig({ cwd: root })).rejects.toMatchObject({ code: 'E_CONFIG_NOT_FOUND', exitCode: 2 });
});

it('names the file in validation errors', async () => {
  const root = await tempWorkspace();
  await writeFile(join(root, 'services.json'), '{"services":{"Api":{}}}');
  const error = await loadConfig({ cwd: root }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as Error).message).toContain(`${join(root, 'services.json')}: invalid configuration: services.Api: service names are lowercase`);
});
