import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { parsePin, parseTrailers } from '@slipway/pins';
import { describe, expect, it } from 'vitest';
import { json, pinsWorkspace } from '../../test/pins-fixtures.js';
import { runCli } from '../../test/run-cli.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const SLIPWAY = fileURLToPath(new URL('../../bin/slipway.js', import.meta.url));
const SERVICES = { api: { root: 'apps/api' }, vault: { root: 'apps/vault' }, web: { root: 'apps/web' }, jobs: { root: 'apps/jobs' } };

/** A post-commit hook (through core.hooksPath, so it also runs in the cache clone) that lets a rival push first. */
async function rivalHook(dir: string, script: string): Promise<NodeJS.ProcessEnv> {
  await mkdir(dir, { recursive: true });
  const hook = join(dir, 'post-commit');
  await writeFile(hook, `#!/bin/sh\nunset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE GIT_PREFIX GIT_CONFIG_COUNT GIT_CONFIG_KEY_0 GIT_CONFIG_VALUE_0\n${script}\n`);
  await chmod(hook, 0o755);
  return { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'core.hooksPath', GIT_CONFIG_VALUE_0: dir };
}

describe('slipway promote under contention', () => {
  it('8 concurrent promotions (8 processes, 8 clones, one bare origin) all land, none lost', async () => {
    const ws = await pinsWorkspace({ pins: 'remote', services: SERVICES });
    const runs = Object.keys(SERVICES).flatMap((service, i) => [
      { service, digest: D(String(2 * i + 1)) },
      { service, digest: D(String(2 * i + 2)) },
    ]);
    const clones = await Promise.all(runs.map((_, i) => ws.cloneWorkspace(`racer-${String(i)}`)));

    const results = await Promise.all(
      runs.map(({ service, digest }, i) =>
        execa('node', [SLIPWAY, 'promote', service, '--to', 'staging', '--digest', digest, '--json'], {
          cwd: clones[i]?.dir,
          env: ws.env,
          extendEnv: false,
          reject: false,
        }),
      ),
    );
    for (const r of results) expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);

    const messages = (await ws.originMessages()).slice(0, -1);
    expect(messages).toHaveLength(8);
    const recorded = messages.map((m) => parseTrailers(m));
    expect(recorded.map((t) => t?.digest).sort()).toEqual(runs.map((r) => r.digest).sort());
    for (const service of Object.keys(SERVICES)) {
      // The pin is the one promoted last; the other one is in the record, not lost.
      const newest = recorded.find((t) => t?.service === service);
      const pin = parsePin((await ws.originFile(`deploy/staging/${service}.yaml`)) ?? '');
      expect(pin.digest).toBe(newest?.digest);
      const history = json<{ promotions: { digest: string }[] }>(await ws.run(['history', service, '--json']));
      expect(history.promotions.map((p) => p.digest).sort()).toEqual(runs.filter((r) => r.service === service).map((r) => r.digest).sort());
    }
  }, 180_000); // eight real processes starting tsx at once

  it('concurrent promotions in one workspace share its cache clone safely (the lock serializes them)', async () => {
    const ws = await pinsWorkspace({ pins: 'remote', services: SERVICES });
    const results = await Promise.all(Object.keys(SERVICES).map((service, i) => ws.run(['promote', service, '--to', 'staging', '--digest', D(String(i + 1))])));
    for (const r of results) expect(r.exitCode, r.stderr).toBe(0);
    expect(await ws.originLog()).toHaveLength(5);
  });

  it.each(['self', 'remote'] as const)(
    'pins.repo %s: a push beaten by another promotion of the same file re-applies on top and both are recorded',
    async (mode) => {
      const ws = await pinsWorkspace({ pins: mode });
      const rival = await ws.pinsRepo.clone('rival');
      const theirs = [
        'service: api',
        'environment: staging',
        `image: oci-layout:${ws.layoutDir}/api`,
        `digest: ${D('b')}`,
        'promotedAt: 2026-11-21T10:00:00Z',
        'promotedBy: bob',
        'from: release',
        '',
      ].join('\n');
      await rival.commit(
        `promote api sha256:bbbbbbbbbbbb to staging\n\nSlipway-Service: api\nSlipway-Environment: staging\nSlipway-Digest: ${D('b')}\nSlipway-From: release\n`,
        { 'deploy/staging/api.yaml': theirs },
      );
      const state = join(ws.repo.root, 'hook-state');
      await mkdir(state);
      const hookEnv = await rivalHook(
        join(ws.repo.root, 'hooks'),
        `[ -e "${state}/raced" ] && exit 0\n: > "${state}/raced"\ngit -C "${rival.dir}" push -q origin HEAD:main`,
      );

      const r = await runCli(['promote', 'api', '--to', 'staging', '--digest', D('a'), '--json'], { cwd: ws.repo.dir, env: { ...ws.env, ...hookEnv } });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/origin\/main moved on; re-applying on top of it \(attempt 2 of 8\)/);
      expect(await ws.originLog()).toEqual([
        'promote api sha256:aaaaaaaaaaaa to staging',
        'promote api sha256:bbbbbbbbbbbb to staging',
        'chore: initial commit',
      ]);
      expect(parsePin((await ws.originFile('deploy/staging/api.yaml')) ?? '')).toMatchObject({ digest: D('a'), promotedBy: 'alice' });
      const history = json<{ promotions: { digest: string }[] }>(await ws.run(['history', 'api', '--json']));
      expect(history.promotions.map((p) => p.digest)).toEqual([D('a'), D('b')]);
      if (mode === 'self') expect(await ws.repo.git('status', '--porcelain', '--', '.', ':!.slipway')).toBe('');
    },
  );

  it('gives up after 8 attempts when origin keeps moving: exit 1, nothing of ours pushed', async () => {
    const ws = await pinsWorkspace({ pins: 'remote' });
    const rival = await ws.pinsRepo.clone('rival');
    const hookEnv = await rivalHook(
      join(ws.repo.root, 'hooks'),
      `git -C "${rival.dir}" commit -q --allow-empty -m "chore: elsewhere" && git -C "${rival.dir}" push -q origin HEAD:main`,
    );
    const r = await runCli(['promote', 'api', '--to', 'staging', '--digest', D('a'), '--json'], { cwd: ws.repo.dir, env: { ...ws.env, ...hookEnv } });
    expect(r.exitCode).toBe(1);
    expect(json<{ error: { code: string; message: string } }>(r).error).toMatchObject({ code: 'E_PINS_PUSH_CONTENDED' });
    const log = await ws.originLog();
    expect(log.filter((s) => s === 'chore: elsewhere')).toHaveLength(8);
    expect(log.filter((s) => s.startsWith('promote'))).toEqual([]);
  });
});
