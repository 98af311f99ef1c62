import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { deleteLayoutTag, json, pinsWorkspace } from '../../test/pins-fixtures.js';
import type { StatusRow } from './status.js';

interface Status {
  environments: string[];
  pins: StatusRow[];
  warnings: string[];
}

const row = (status: Status, service: string, environment: string) => status.pins.find((r) => r.service === service && r.environment === environment);

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('slipway status', () => {
  it('shows version, digest, when and by whom per service and environment, and flags drift when a tag moves or goes', async () => {
    const ws = await pinsWorkspace();
    const d1 = await ws.publish('api', 'v1.0.0');
    for (const env of ['staging', 'canary']) expect((await ws.run(['promote', 'api', '--to', env, '--version', '1.0.0'])).exitCode).toBe(0);

    const clean = json<Status>(await ws.run(['status', '--json']));
    expect(clean.environments).toEqual(['staging', 'canary', 'production']);
    expect(clean.pins.map((r) => `${r.service}/${r.environment}`)).toEqual([
      'api/staging',
      'api/canary',
      'api/production',
      'vault/staging',
      'vault/canary',
      'vault/production',
    ]);
    expect(row(clean, 'api', 'canary')).toMatchObject({
      pinned: true,
      version: '1.0.0',
      digest: d1,
      tag: 'api/v1.0.0',
      promotedBy: 'alice',
      from: 'staging',
      imageTag: 'v1.0.0',
      drift: 'none',
      registryDigest: d1,
      path: 'deploy/canary/api.yaml',
    });
    expect(row(clean, 'api', 'canary')?.promotedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(row(clean, 'api', 'production')).toMatchObject({ pinned: false, digest: null, drift: null });

    const moved = await ws.publish('api', 'v1.0.0'); // someone re-pushed the tag
    const drifted = json<Status>(await ws.run(['status', 'api', '--json']));
    expect(drifted.pins.map((r) => r.service)).toEqual(['api', 'api', 'api']);
    expect(row(drifted, 'api', 'staging')).toMatchObject({ digest: d1, drift: 'moved', registryDigest: moved });

    const human = await ws.run(['status', 'api']);
    expect(human.exitCode).toBe(0);
    const lines = human.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^service +environment +version +digest +when +by +drift$/);
    expect(lines[1]).toMatch(/^api +staging +1\.0\.0 +sha256:[0-9a-f]{12} +\S+Z +alice +DRIFT: v1\.0\.0 is now sha256:[0-9a-f]{12}$/);
    expect(lines[3]).toMatch(/^api +production +- +\(not pinned\) +- +- +-$/);
    // Aligned: every row's "digest" column starts where the header's does.
    const column = lines[0]?.indexOf('digest');
    for (const line of lines.slice(1)) expect(line.slice(column).startsWith('sha256:') || line.slice(column).startsWith('(not pinned)')).toBe(true);

    await deleteLayoutTag(ws.layoutDir, 'api', 'v1.0.0');
    expect(row(json<Status>(await ws.run(['status', 'api', '--json'])), 'api', 'staging')).toMatchObject({ drift: 'missing', registryDigest: null });
  });

  it('an unreachable registry makes drift "unknown" with a warning, and the table is still shown (exit 0)', async () => {
    const port = await closedPort();
    const ws = await pinsWorkspace({ services: { api: { root: 'apps/api', image: `127.0.0.1:${String(port)}/acme/api` } } });
    const digest = `sha256:${'d'.repeat(64)}`;
    // Pinned by digest, then a record that names the version: status has a tag to check.
    const pin = [
      'service: api',
      'environment: staging',
      `image: 127.0.0.1:${String(port)}/acme/api`,
      'version: 1.0.0',
      `digest: ${digest}`,
      'tag: api/v1.0.0',
      'promotedAt: 2026-11-21T10:00:00Z',
      'promotedBy: bob',
      'from: release',
      '',
    ].join('\n');
    await ws.repo.commit('chore: pin by hand', { 'deploy/staging/api.yaml': pin });
    await ws.repo.push(); // status shows what origin pins: that is what gets deployed

    const r = await ws.run(['status', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const status = json<Status>(r);
    expect(row(status, 'api', 'staging')).toMatchObject({ version: '1.0.0', promotedBy: 'bob', promotedAt: '2026-11-21T10:00:00Z', drift: 'unknown' });
    expect(status.warnings).toHaveLength(1);
    expect(r.stderr).toMatch(/warning: could not ask the registry about 127\.0\.0\.1:\d+\/acme\/api:v1\.0\.0: .*; drift unknown/);
  });

  it('unknown services are bad input (exit 2)', async () => {
    const ws = await pinsWorkspace();
    const r = await ws.run(['status', 'web']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/unknown service "web"/);
  });
});
