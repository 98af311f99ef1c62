import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCli } from '../../test/run-cli.js';

async function workspace(config: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-inspect-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'services.json'), JSON.stringify(config));
  return dir;
}

const services = { api: {}, vault: {}, cli: { kind: 'npm' } };

describe('slipway tag inspect', () => {
  it.each([
    ['per-service', 'api/v1.2.3', { tag: 'api/v1.2.3', kind: 'release', service: 'api', version: '1.2.3', deploy: true, prerelease: false }],
    ['per-service', 'vault/v0.4.0-rc.1', { tag: 'vault/v0.4.0-rc.1', kind: 'prerelease', service: 'vault', version: '0.4.0-rc.1', deploy: true, prerelease: true }],
    ['single', 'v1.4.0.1', { tag: 'v1.4.0.1', kind: 'release', service: null, version: '1.4.0.1', deploy: true, prerelease: false }],
    ['single', 'vnext', { tag: 'vnext', kind: 'checkpoint', service: null, version: null, deploy: false, prerelease: false }],
    ['staging-line', '0.1.2-staging.2', { tag: '0.1.2-staging.2', kind: 'staging', service: null, version: '0.1.2-staging.2', deploy: true, prerelease: true }],
    ['staging-line', 'sha-1a2b3c4', { tag: 'sha-1a2b3c4', kind: 'sha', service: null, version: null, deploy: false, prerelease: false }],
  ])('under %s, %s → the contract JSON', async (scheme, tag, expected) => {
    const cwd = await workspace({ scheme, services });
    const { exitCode, stdout } = await runCli(['tag', 'inspect', tag, '--json'], { cwd });
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout)).toEqual(expected);
  });

  it.each([
    ['per-service', 'web/v1.2.3', /unknown service "web"/],
    ['per-service', 'api/1.2.3', /"v"/],
    ['single', '1.2.3', /v/],
    ['staging-line', 'v1.2.3', /./],
  ])('under %s, %s is bad input: exit 2 with the reason', async (scheme, tag, reason) => {
    const cwd = await workspace({ scheme, services });
    const { exitCode, stdout } = await runCli(['tag', 'inspect', tag, '--json'], { cwd });
    expect(exitCode).toBe(2);
    const { error } = JSON.parse(stdout);
    expect(error.code).toBe('E_TAG_INVALID');
    expect(error.message).toMatch(reason);
  });

  it('prints a readable table without --json', async () => {
    const cwd = await workspace({ services });
    const { exitCode, stdout } = await runCli(['tag', 'inspect', 'api/v2.0.0', '--cwd', cwd]);
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/^field +value\ntag +api\/v2\.0\.0\nkind +release\n/);
  });

  it('a bad services.json is exit 2 naming the path, and nothing else runs', async () => {
    const cwd = await workspace({ services: { API: {} } });
    const { exitCode, stderr } = await runCli(['tag', 'inspect', 'api/v1.0.0'], { cwd });
    expect(exitCode).toBe(2);
    expect(stderr).toContain('services.API: service names are lowercase');
  });
});
