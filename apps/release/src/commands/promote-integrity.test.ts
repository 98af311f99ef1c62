import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePin, parseTrailers } from '@slipway/pins';
import { describe, expect, it, onTestFinished } from 'vitest';
import { json, pinsWorkspace, type PinsWorkspace } from '../../test/pins-fixtures.js';

// Issue 15, items 1–5: a promotion is never lost, never carries someone else's commits, is not
// blocked by a stray file, never writes through a symlink, and the environment gate reads what the
// pin files held rather than what commit messages claim.

const bin = fileURLToPath(new URL('../../bin/slipway.js', import.meta.url));
const D = (c: string) => `sha256:${c.repeat(64)}`;
const MODES = ['self', 'remote'] as const;
const EVERY_MODE = ['self', 'remote', 'url'] as const;

/** Runs slipway as its own process, so a crash point really kills it (SIGKILL: no cleanup at all). */
function slipway(ws: PinsWorkspace, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, ...args], { cwd: ws.repo.dir, env: { ...ws.env, ...env } }, (error, stdout, stderr) => {
      const failure = error as (Error & { code?: number; signal?: string }) | null;
      done({ code: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0, signal: failure?.signal ?? null, stdout, stderr });
    });
  });
}

const pinText = (digest: string, extra: Record<string, string> = {}) =>
  Object.entries({
    service: 'api',
    environment: 'canary',
    image: 'x/api',
    digest,
    promotedAt: '2026-11-21T10:00:00Z',
    promotedBy: 'mallory',
    from: 'staging',
    ...extra,
  })
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n') + '\n';

async function outsideDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-outside-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('1. a promotion killed after its commit and before its push', () => {
  it.each(EVERY_MODE)('pins.repo %s: the re-run pushes it; done only when origin has it', async (mode) => {
    const ws = await pinsWorkspace({ pins: mode });
    const crashed = await slipway(ws, ['promote', 'api', '--to', 'staging', '--digest', D('a')], { SLIPWAY_TEST_CRASH_AFTER: 'promotion:commit' });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    expect(await ws.originLog()).toEqual(['chore: initial commit']);

    const again = await slipway(ws, ['promote', 'api', '--to', 'staging', '--digest', D('a'), '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'promoted', pushed: true });
    expect(await ws.originLog()).toEqual(['promote api sha256:aaaaaaaaaaaa to staging', 'chore: initial commit']);
    expect(parsePin((await ws.originFile('deploy/staging/api.yaml')) ?? '').digest).toBe(D('a'));

    const third = json(await ws.run(['promote', 'api', '--to', 'staging', '--digest', D('a'), '--json']));
    expect(third).toMatchObject({ status: 'unchanged', pushed: false });
    expect(await ws.originLog()).toHaveLength(2);
  }, 60_000);

  it.each(MODES)('pins.repo %s: a lock file left in Slipway\'s own work tree by a git killed with its machine does not block the next run', async (mode) => {
    const ws = await pinsWorkspace({ pins: mode });
    expect((await ws.run(['promote', 'api', '--to', 'staging', '--digest', D('a')])).exitCode).toBe(0);
    const gitDirs =
      mode === 'self'
        ? (await readdir(join(ws.repo.dir, '.git', 'worktrees'))).map((name) => join(ws.repo.dir, '.git', 'worktrees', name))
        : (await readdir(join(ws.repo.dir, '.slipway', 'cache'))).filter((n) => /^pins-[0-9a-f]+$/.test(n)).map((n) => join(ws.repo.dir, '.slipway', 'cache', n, '.git'));
    expect(gitDirs).toHaveLength(1);
    for (const dir of gitDirs) await writeFile(join(dir, 'index.lock'), '');

    const r = await ws.run(['promote', 'api', '--to', 'canary', '--digest', D('a'), '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ status: 'promoted', pushed: true });
    expect((await ws.originLog())[0]).toBe('promote api sha256:aaaaaaaaaaaa to canary');
  });
});

describe('2. a promotion pushes exactly its own commit', () => {
  it("never pushes, rebases or stages the user's work in a pins.repo \".\" checkout", async () => {
    const ws = await pinsWorkspace();
    const wip = await ws.repo.commit('wip: not ready', { 'apps/api/server.js': 'console.log("wip")\n' });
    await ws.repo.write({ 'apps/api/staged.js': 'staged\n', 'notes.txt': 'untracked\n' });
    await ws.repo.git('add', 'apps/api/staged.js');
    await ws.repo.write({ 'apps/api/server.js': 'console.log("edited")\n' });
    const statusBefore = await ws.repo.git('status', '--porcelain', '--untracked-files=all', '--', '.', ':!.slipway');

    const r = await ws.run(['promote', 'api', '--to', 'staging', '--digest', D('a'), '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ status: 'promoted', pushed: true });

    expect(await ws.originLog()).toEqual(['promote api sha256:aaaaaaaaaaaa to staging', 'chore: initial commit']);
    const promotion = await ws.pinsRepo.git('-C', ws.pinsOrigin, 'show', '--name-only', '--format=', 'main');
    expect(promotion.trim()).toBe('deploy/staging/api.yaml');
    // The user's branch, index and work tree are as they left them.
    expect(await ws.repo.revParse()).toBe(wip);
    expect(await ws.repo.git('status', '--porcelain', '--untracked-files=all', '--', '.', ':!.slipway')).toBe(statusBefore);
    expect(await ws.repo.git('diff', '--cached', '--name-only')).toBe('apps/api/staged.js');

    const human = await ws.run(['promote', 'api', '--to', 'canary', '--digest', D('a')]);
    expect(human.stdout).toMatch(/pushed to origin\/main \(this checkout is untouched: git pull --ff-only to see it\)$/m);
    expect(await ws.repo.revParse()).toBe(wip);
  });
});

describe('3. a stray file at a pin path', () => {
  it.each(MODES)('pins.repo %s: promote converges; status and history still read', async (mode) => {
    const ws = await pinsWorkspace({ pins: mode });
    expect((await ws.run(['promote', 'api', '--to', 'staging', '--digest', D('a')])).exitCode).toBe(0);
    // What a kill between write and commit leaves behind, in the user's checkout and in the cache clone.
    const stray = 'service: api\nenvironment: canary\ndigest: sha256:half-writ';
    await ws.repo.write({ 'deploy/canary/api.yaml': stray });
    if (mode === 'remote') {
      const cache = join(ws.repo.dir, '.slipway', 'cache');
      for (const clone of (await readdir(cache)).filter((name) => name.startsWith('pins-') && !name.endsWith('.lock'))) {
        await mkdir(join(cache, clone, 'deploy', 'canary'), { recursive: true });
        await writeFile(join(cache, clone, 'deploy', 'canary', 'api.yaml'), stray);
      }
    }

    for (const args of [['status', 'api'], ['history', 'api']]) {
      const r = await ws.run([...args, '--json']);
      expect(r.exitCode, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(0);
    }
    const r = await ws.run(['promote', 'api', '--to', 'canary', '--digest', D('a'), '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(parsePin((await ws.originFile('deploy/canary/api.yaml')) ?? '').digest).toBe(D('a'));
    expect(json(await ws.run(['status', 'api', '--json']))).toMatchObject({ pins: expect.arrayContaining([expect.objectContaining({ environment: 'canary', digest: D('a') })]) });
  });

  it('a checkout without origin: promote exits 2 naming the file and what to do; reads still work', async () => {
    const ws = await pinsWorkspace();
    await ws.repo.git('remote', 'remove', 'origin');
    await ws.repo.write({ 'deploy/staging/api.yaml': 'half a pin\n' });
    const head = await ws.repo.revParse();

    const r = await ws.run(['promote', 'api', '--to', 'staging', '--digest', D('a'), '--json']);
    expect(r.exitCode).toBe(2);
    expect(json<{ error: { code: string; message: string } }>(r).error.message).toMatch(/deploy\/staging\/api\.yaml .*(commit|remove)/);
    expect(await ws.repo.revParse()).toBe(head);
    for (const args of [['status', 'api'], ['history', 'api']]) expect((await ws.run([...args, '--json'])).exitCode).toBe(0);
  });
});

describe('4. a pin path that leads out of the pins repository through a symlink', () => {
  it.each(EVERY_MODE)('pins.repo %s: a committed symlinked pins folder is refused (exit 2), nothing written anywhere', async (mode) => {
    const outside = await outsideDir();
    const ws = await pinsWorkspace({ pins: mode });
    const holder = mode === 'self' ? ws.repo : await ws.pinsRepo.clone('infra');
    await mkdir(join(holder.dir, 'deploy'), { recursive: true });
    await symlink(outside, join(holder.dir, 'deploy', 'staging'));
    await holder.git('add', 'deploy/staging');
    await holder.git('commit', '-q', '-m', 'chore: link staging pins');
    await holder.push('HEAD:main');
    const before = await ws.originLog();

    const r = await ws.run(['promote', 'api', '--to', 'staging', '--digest', D('a'), '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(2);
    expect(json<{ error: { code: string; message: string } }>(r).error.message).toMatch(/deploy\/staging.*symlink/);
    expect(await readdir(outside)).toEqual([]);
    expect(await ws.originLog()).toEqual(before);
  });

  it('a checkout without origin whose pins folder is a symlink out of the repository: exit 2, nothing written', async () => {
    const outside = await outsideDir();
    const ws = await pinsWorkspace();
    await ws.repo.git('remote', 'remove', 'origin');
    await mkdir(join(ws.repo.dir, 'deploy'));
    await symlink(outside, join(ws.repo.dir, 'deploy', 'staging'));
    const head = await ws.repo.revParse();

    const r = await ws.run(['promote', 'api', '--to', 'staging', '--digest', D('a'), '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(2);
    expect(json<{ error: { code: string; message: string } }>(r).error.message).toMatch(/deploy\/staging.*symlink/);
    expect(await readdir(outside)).toEqual([]);
    expect(await ws.repo.revParse()).toBe(head);
  });

  it('a pins.repo "." checkout with an untracked symlinked pins folder: the promotion lands on origin, nothing written outside', async () => {
    const outside = await outsideDir();
    const ws = await pinsWorkspace();
    await mkdir(join(ws.repo.dir, 'deploy'));
    await symlink(outside, join(ws.repo.dir, 'deploy', 'staging'));
    const r = await ws.run(['promote', 'api', '--to', 'staging', '--digest', D('a'), '--json']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(parsePin((await ws.originFile('deploy/staging/api.yaml')) ?? '').digest).toBe(D('a'));
    expect(await readdir(outside)).toEqual([]);
  });
});

describe('5. the environment gate reads what the pin files held, not what trailers claim', () => {
  it.each(EVERY_MODE)('pins.repo %s: a forged Slipway-Digest on a canary commit does not open production', async (mode) => {
    const ws = await pinsWorkspace({ pins: mode });
    const real = D('1');
    const forged = D('f');
    for (const env of ['staging', 'canary']) expect((await ws.run(['promote', 'api', '--to', env, '--digest', real])).exitCode).toBe(0);
    const forger = await ws.pinsRepo.clone('forger');
    await forger.commit(
      `promote api sha256:ffffffffffff to canary\n\nSlipway-Service: api\nSlipway-Environment: canary\nSlipway-Digest: ${forged}\nSlipway-From: staging\n`,
      { 'deploy/canary/api.yaml': pinText(real) },
    );
    await forger.push('HEAD:main');
    const before = await ws.originLog();

    const r = await ws.run(['promote', 'api', '--to', 'production', '--digest', forged, '--approved-by', 'release-manager', '--json']);
    expect(r.exitCode, r.stdout).toBe(3);
    expect(json<{ error: { code: string; message: string } }>(r).error.message).toMatch(/production accepts only a digest that went through canary/);
    expect(await ws.originLog()).toEqual(before);
    // The real one still goes through, and the forged commit stays in the audit record as written.
    expect((await ws.run(['promote', 'api', '--to', 'production', '--digest', real, '--approved-by', 'release-manager'])).exitCode).toBe(0);
    const read = await ws.run(['history', 'api', '--env', 'canary', '--json']);
    expect(json<{ promotions: { digest: string; pinned: string | null }[] }>(read).promotions).toEqual([
      expect.objectContaining({ digest: forged, pinned: real }),
      expect.objectContaining({ digest: real, pinned: real }),
    ]);
    expect(read.stderr).toMatch(/warning: commit [0-9a-f]{12} claims sha256:ffffffffffff in canary, but its pin file holds sha256:111111111111; the gates go by the file/);
  });

  it('rollback returns to a digest the environment held, never to one a forged trailer names', async () => {
    const ws = await pinsWorkspace();
    const [d1, d2, forged] = [D('1'), D('2'), D('f')];
    for (const d of [d1, d2]) expect((await ws.run(['promote', 'api', '--to', 'staging', '--digest', d])).exitCode).toBe(0);
    const forger = await ws.pinsRepo.clone('forger');
    await forger.commit(
      `promote api sha256:ffffffffffff to staging\n\nSlipway-Service: api\nSlipway-Environment: staging\nSlipway-Digest: ${forged}\nSlipway-From: release\n`,
      { 'deploy/staging/api.yaml': pinText(d2, { environment: 'staging', from: 'release' }) },
    );
    await forger.push('HEAD:main');

    const r = await ws.run(['rollback', 'api', '--env', 'staging', '--json']);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(json(r)).toMatchObject({ digest: d1 });
    expect(parseTrailers((await ws.originMessages())[0] ?? '')).toMatchObject({ digest: d1, from: 'rollback' });
    const named = await ws.run(['rollback', 'api', '--env', 'staging', '--to', '9.9.9']);
    expect(named.exitCode).toBe(2);
  });
});
