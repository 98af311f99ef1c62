import { describe, expect, it } from 'vitest';
import { json, pinsWorkspace } from '../../test/pins-fixtures.js';
import type { PromotionRecord } from '../promotion.js';

interface History {
  service: string;
  environment: string | null;
  promotions: PromotionRecord[];
}

describe('slipway history', () => {
  it('reads the record back from commit trailers, newest first, filtered by --env', async () => {
    const ws = await pinsWorkspace({ pins: 'remote' });
    const d1 = await ws.publish('api', 'v1.0.0');
    const d2 = await ws.publish('api', 'v1.1.0');
    const steps: [string, string, ...string[]][] = [
      ['staging', '1.0.0'],
      ['canary', '1.0.0'],
      ['production', '1.0.0', '--approved-by', 'release-manager'],
      ['staging', '1.1.0'],
    ];
    for (const [env, version, ...extra] of steps) expect((await ws.run(['promote', 'api', '--to', env, '--version', version, ...extra])).exitCode).toBe(0);
    expect((await ws.run(['promote', 'vault', '--to', 'staging', '--digest', d1])).exitCode).toBe(0);

    const all = json<History>(await ws.run(['history', 'api', '--json']));
    expect(all.service).toBe('api');
    expect(all.environment).toBeNull();
    expect(all.promotions.map((p) => [p.environment, p.version, p.digest, p.from, p.approvedBy])).toEqual([
      ['staging', '1.1.0', d2, 'release', []],
      ['production', '1.0.0', d1, 'canary', ['release-manager']],
      ['canary', '1.0.0', d1, 'staging', []],
      ['staging', '1.0.0', d1, 'release', []],
    ]);
    const onOrigin = (await ws.pinsRepo.git('-C', ws.pinsOrigin, 'log', '--format=%H', 'main')).split('\n');
    expect(all.promotions.map((p) => p.commit)).toEqual(onOrigin.filter((sha) => all.promotions.some((p) => p.commit === sha)));
    expect(all.promotions[0]).toMatchObject({ author: 'alice', subject: 'promote api 1.1.0 to staging' });
    expect(all.promotions[0]?.date).toMatch(/^\d{4}-\d\d-\d\dT/);

    const staging = json<History>(await ws.run(['history', 'api', '--env', 'staging', '--json']));
    expect(staging.promotions.map((p) => p.version)).toEqual(['1.1.0', '1.0.0']);
    expect(json<History>(await ws.run(['history', 'vault', '--json'])).promotions).toHaveLength(1);

    const human = await ws.run(['history', 'api']);
    const lines = human.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^when +environment +version +digest +from +approved by +by +commit$/);
    expect(lines[2]).toMatch(/ production +1\.0\.0 +sha256:[0-9a-f]{12} +canary +release-manager +alice +[0-9a-f]{12}$/);
  });

  it('leaves out commits without Slipway trailers, and says when there is nothing', async () => {
    const ws = await pinsWorkspace();
    await ws.repo.commit('chore: hand edit', { 'deploy/staging/api.yaml': `service: api\nenvironment: staging\nimage: x/api\ndigest: sha256:${'f'.repeat(64)}\npromotedAt: 2026-01-01T00:00:00Z\npromotedBy: bob\nfrom: manual\n` });
    await ws.repo.push();
    const r = await ws.run(['history', 'api', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(json<History>(r).promotions).toEqual([]);
    expect((await ws.run(['history', 'api', '--env', 'canary'])).stdout).toBe('no promotions of api in canary in the pins repository (.)\n');
  });

  it('an unknown environment or service is bad input (exit 2)', async () => {
    const ws = await pinsWorkspace();
    expect((await ws.run(['history', 'api', '--env', 'qa'])).exitCode).toBe(2);
    expect((await ws.run(['history', 'web'])).exitCode).toBe(2);
  });
});
