import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { startGitHttpServer, startHostileGitPeer, type GitHttpServer } from '@slipway/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { json, pinsWorkspace, type PinsWorkspace } from '../pins-fixtures.js';

// Git remotes that hang, through the CLI: a pins repository (clone, fetch, push) and a workspace
// origin (tag push) on loopback that accept the connection and never answer, or trickle a byte
// every half second. Each command ends at SLIPWAY_GIT_TIMEOUT (2 s here) with exit 1, E_GIT_TIMEOUT,
// the remote named without its credentials, no lock and no half-made clone left behind; once the
// remote answers again, the same command run again finishes.

const DEADLINE_S = 2;
const SLACK_MS = 4_000;
const TOKEN = 'ghp_hungRemoteToken0123456789abcdefXY';
type ErrorDoc = { error: { code: string; message: string } };

async function timedRun(ws: PinsWorkspace, args: string[]) {
  const started = performance.now();
  const run = await ws.run(args, { env: { ...ws.env, SLIPWAY_GIT_TIMEOUT: String(DEADLINE_S) } });
  return { run, ms: performance.now() - started };
}

/** Points services.json's pins.repo at `url`. */
async function setPinsRepo(ws: PinsWorkspace, url: string): Promise<void> {
  const path = join(ws.repo.dir, 'services.json');
  const config = JSON.parse(await readFile(path, 'utf8')) as { pins: { repo: string } };
  config.pins.repo = url;
  await writeFile(path, JSON.stringify(config, null, 2));
}

/** What the cache holds besides its .gitignore: no lock, no `.partial` clone may outlive a run. */
async function cacheEntries(ws: PinsWorkspace): Promise<string[]> {
  const entries = await readdir(join(ws.repo.dir, '.slipway', 'cache')).catch(() => []);
  return entries.filter((e) => e !== '.gitignore').sort();
}

function expectTimedOut({ run, ms }: Awaited<ReturnType<typeof timedRun>>, remote: string): void {
  expect(run.exitCode, run.stdout + run.stderr).toBe(1);
  const { error } = json<ErrorDoc>(run);
  expect(error.code).toBe('E_GIT_TIMEOUT');
  expect(error.message).toContain(remote);
  expect(error.message).toContain(`within ${DEADLINE_S} s`);
  expect(run.stdout + run.stderr).not.toContain(TOKEN);
  expect(ms).toBeLessThan(DEADLINE_S * 1000 + SLACK_MS);
}

async function gitServer(ws: PinsWorkspace): Promise<GitHttpServer> {
  const server = await startGitHttpServer({ root: dirname(ws.pinsOrigin) });
  onTestFinished(() => server.close());
  return server;
}

const withToken = (url: string) => url.replace('://', `://deploybot:${TOKEN}@`);

describe('a git remote that hangs ends the command at SLIPWAY_GIT_TIMEOUT', () => {
  for (const mode of ['silent', 'trickle'] as const) {
    it(`promote: a pins repository URL whose server is ${mode} fails at the deadline, leaving no lock and no clone`, async () => {
      const ws = await pinsWorkspace({ pins: 'url' });
      await ws.publish('api', 'v1.0.0');
      const hostile = await startHostileGitPeer({ mode, intervalMs: 500 });
      onTestFinished(() => hostile.close());
      await setPinsRepo(ws, withToken(`${hostile.url}/acme/infra.git`));

      const result = await timedRun(ws, ['promote', 'api', '--to', 'staging', '--version', '1.0.0', '--json']);

      expectTimedOut(result, `http://***@127.0.0.1:${hostile.port}/acme/infra.git`);
      expect(hostile.connections()).toBeGreaterThanOrEqual(1);
      await hostile.drained(2_000);
      expect(await cacheEntries(ws)).toEqual([]);
    });
  }

  it('promote: a pins push that hangs fails at the deadline with nothing pushed; run again once origin answers, it lands', async () => {
    const ws = await pinsWorkspace({ pins: 'url' });
    await ws.publish('api', 'v1.0.0');
    const server = await gitServer(ws);
    server.hang = ({ path }) => path.includes('git-receive-pack');
    const url = `${server.url}/origin.git`;
    await setPinsRepo(ws, withToken(url));

    const hung = await timedRun(ws, ['promote', 'api', '--to', 'staging', '--version', '1.0.0', '--json']);

    expectTimedOut(hung, `origin (${url.replace('://', '://***@')})`);
    expect(server.requests.some((r) => r.includes('git-upload-pack'))).toBe(true);
    await server.drained(2_000);
    expect(await ws.originLog()).toEqual(['chore: initial commit']);
    // The lock is released; the clone stays (complete) for the next run.
    expect((await cacheEntries(ws)).filter((e) => e.endsWith('.lock') || e.endsWith('.partial'))).toEqual([]);

    server.hang = undefined;
    const again = await timedRun(ws, ['promote', 'api', '--to', 'staging', '--version', '1.0.0', '--json']);
    expect(again.run.exitCode, again.run.stdout + again.run.stderr).toBe(0);
    expect(json(again.run)).toMatchObject({ status: 'promoted', pushed: true });
    expect(await ws.originLog()).toHaveLength(2);
  });

  it('release: a tag push to an origin that hangs fails at the deadline, no tag on origin; the same command again creates it', async () => {
    const ws = await pinsWorkspace();
    const server = await startGitHttpServer({ root: dirname(ws.repo.origin) });
    onTestFinished(() => server.close());
    const url = `${server.url}/origin.git`;
    await ws.repo.git('remote', 'set-url', 'origin', withToken(url));
    server.hang = ({ path }) => path.includes('git-receive-pack');

    const hung = await timedRun(ws, ['release', 'api', '--version', '1.0.0', '--json']);

    expectTimedOut(hung, `origin (${url.replace('://', '://***@')})`);
    await server.drained(2_000);
    expect(await ws.repo.git('-C', ws.repo.origin, 'tag', '-l')).toBe('');
    // release drops the tag it created, so the same command again is a true retry.
    expect(hung.run.stderr).toContain('api/v1.0.0 was not pushed; the local tag was removed');
    expect(await ws.repo.git('tag', '-l', 'api/v1.0.0')).toBe('');

    server.hang = undefined;
    const again = await timedRun(ws, ['release', 'api', '--version', '1.0.0', '--json']);
    expect(again.run.exitCode, again.run.stdout + again.run.stderr).toBe(0);
    expect(await ws.repo.git('-C', ws.repo.origin, 'tag', '-l')).toBe('api/v1.0.0');
  });

  it('an invalid SLIPWAY_GIT_TIMEOUT is exit 2 naming the variable', async () => {
    const ws = await pinsWorkspace();
    const run = await ws.run(['release', 'api', '--version', '1.0.0', '--json'], { env: { ...ws.env, SLIPWAY_GIT_TIMEOUT: 'soon' } });
    expect(run.exitCode).toBe(2);
    expect(json<ErrorDoc>(run).error).toMatchObject({ code: 'E_GIT_SETTING', message: expect.stringContaining('SLIPWAY_GIT_TIMEOUT="soon"') });
  });
});
