import { parsePin, parseTrailers } from '@slipway/pins';
import { describe, expect, it } from 'vitest';
import { json, pinsWorkspace, type PinsWorkspace } from '../../test/pins-fixtures.js';

async function promoteAll(ws: PinsWorkspace, steps: readonly (readonly [string, string, ...string[]])[]) {
  for (const [env, version, ...extra] of steps) {
    const r = await ws.run(['promote', 'api', '--to', env, '--version', version, ...extra]);
    expect(r.exitCode, `${env} ${version}: ${r.stderr}`).toBe(0);
  }
}

const pinned = async (ws: PinsWorkspace, env: string) => parsePin((await ws.originFile(`deploy/${env}/api.yaml`)) ?? '');

describe('slipway rollback', () => {
  it('re-pins the previous digest of the environment, recorded as a promotion from "rollback"', async () => {
    const ws = await pinsWorkspace();
    const d1 = await ws.publish('api', 'v1.0.0');
    const d2 = await ws.publish('api', 'v1.1.0');
    await promoteAll(ws, [
      ['staging', '1.0.0'],
      ['staging', '1.1.0'],
    ]);

    const r = await ws.run(['rollback', 'api', '--env', 'staging', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ status: 'promoted', environment: 'staging', digest: d1, version: '1.0.0', tag: 'api/v1.0.0', from: 'rollback', pushed: true });
    expect(await pinned(ws, 'staging')).toMatchObject({ digest: d1, version: '1.0.0', tag: 'api/v1.0.0', from: 'rollback' });
    expect((await ws.originLog())[0]).toBe('rollback api in staging to 1.0.0');
    expect(parseTrailers((await ws.originMessages())[0] ?? '')).toMatchObject({ environment: 'staging', digest: d1, version: '1.0.0', from: 'rollback' });

    // Rolling back again returns to where it was, like `kubectl rollout undo`.
    expect((await ws.run(['rollback', 'api', '--env', 'staging'])).exitCode).toBe(0);
    expect((await pinned(ws, 'staging')).digest).toBe(d2);

    const history = json<{ promotions: { from: string; version: string }[] }>(await ws.run(['history', 'api', '--env', 'staging', '--json']));
    expect(history.promotions.map((p) => `${p.from} ${p.version}`)).toEqual(['rollback 1.1.0', 'rollback 1.0.0', 'release 1.1.0', 'release 1.0.0']);
  });

  it('--to V returns to a version the environment ran; one it never ran is refused (exit 3)', async () => {
    const ws = await pinsWorkspace();
    const d1 = await ws.publish('api', 'v1.0.0');
    await ws.publish('api', 'v1.1.0');
    await ws.publish('api', 'v1.2.0');
    await ws.publish('api', 'v2.0.0');
    await promoteAll(ws, [
      ['staging', '1.0.0'],
      ['staging', '1.1.0'],
      ['staging', '1.2.0'],
    ]);

    const r = await ws.run(['rollback', 'api', '--env', 'staging', '--to', '1.0.0', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ digest: d1, version: '1.0.0' });

    const before = await ws.originLog();
    const never = await ws.run(['rollback', 'api', '--env', 'staging', '--to', '2.0.0']);
    expect(never.exitCode).toBe(3);
    expect(never.stderr).toMatch(/staging never ran sha256:[0-9a-f]{12}; a rollback can only return to a digest it ran before/);
    const unpublished = await ws.run(['rollback', 'api', '--env', 'staging', '--to', '9.0.0']);
    expect(unpublished.exitCode).toBe(2);
    const same = await ws.run(['rollback', 'api', '--env', 'staging', '--to', '1.0.0', '--json']);
    expect(json(same)).toMatchObject({ status: 'unchanged' });
    expect(await ws.originLog()).toEqual(before);
  });

  it('approvals still apply in production; nothing to roll back to is refused (exit 3)', async () => {
    const ws = await pinsWorkspace();
    await ws.publish('api', 'v1.0.0');
    await ws.publish('api', 'v1.1.0');
    const approve = ['--approved-by', 'release-manager'];
    await promoteAll(ws, [
      ['staging', '1.0.0'],
      ['canary', '1.0.0'],
      ['production', '1.0.0', ...approve],
    ]);

    const only = await ws.run(['rollback', 'api', '--env', 'production', ...approve]);
    expect(only.exitCode).toBe(3);
    expect(only.stderr).toMatch(/production has only ever run api sha256:[0-9a-f]{12}/);
    const nothing = await ws.run(['rollback', 'vault', '--env', 'staging', '--json']);
    expect(nothing.exitCode).toBe(3);
    expect(json<{ error: { code: string } }>(nothing).error.code).toBe('E_NOTHING_TO_ROLL_BACK');

    await promoteAll(ws, [
      ['staging', '1.1.0'],
      ['canary', '1.1.0'],
      ['production', '1.1.0', ...approve],
    ]);
    const unapproved = await ws.run(['rollback', 'api', '--env', 'production']);
    expect(unapproved.exitCode).toBe(3);
    expect(unapproved.stderr).toMatch(/production needs 1 approval/);

    const dry = await ws.run(['rollback', 'api', '--env', 'production', ...approve, '--dry-run', '--json']);
    expect(json(dry)).toMatchObject({ status: 'planned', version: '1.0.0', commit: null });
    expect((await pinned(ws, 'production')).version).toBe('1.1.0');

    const r = await ws.run(['rollback', 'api', '--env', 'production', ...approve]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^rolled back api 1\.0\.0 \(sha256:[0-9a-f]{12}\) in production, approved by release-manager: deploy\/production\/api\.yaml, commit [0-9a-f]{12} pushed to origin\/main/);
    expect(await pinned(ws, 'production')).toMatchObject({ version: '1.0.0', from: 'rollback' });
    expect((await ws.originMessages())[0]).toContain('Slipway-Approved-By: release-manager');
  });

  it('bad input exits 2 before anything is opened', async () => {
    const ws = await pinsWorkspace();
    const before = await ws.originLog();
    for (const args of [['--env', 'qa'], [], ['--env', 'staging', '--to', 'latest']]) {
      const r = await ws.run(['rollback', 'api', ...args]);
      expect(r.exitCode, args.join(' ')).toBe(2);
    }
    expect(await ws.originLog()).toEqual(before);
  });
});
