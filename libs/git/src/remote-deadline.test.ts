import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createTempRepo, startHostileGitPeer, type HostileGitPeer } from '@slipway/testing';
import { createGit } from './create-git.js';
import { GitError } from './errors.js';
import { cloneRepository } from './work-tree.js';

// Hostile remotes on loopback: one that accepts the connection and never answers, one that sends
// a byte every half second. Every git command that talks to a remote ends within its deadline
// (SLIPWAY_GIT_TIMEOUT, scaled down here), with a GitTimeoutError naming the remote without its
// credentials, exit 1, and with git's helpers killed too: the peer sees every connection closed.

const DEADLINE_S = 1.5;
const SECRET = 'tok-Zq81vXbn';
/** Time allowed past the deadline: killing the tree, reading `git remote get-url`. */
const SLACK_MS = 2_500;

async function peer(mode: 'silent' | 'trickle'): Promise<HostileGitPeer> {
  const started = await startHostileGitPeer({ mode, intervalMs: 500 });
  onTestFinished(() => started.close());
  return started;
}

async function timed(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, ms: performance.now() - started };
}

async function repoWithOrigin(url: string) {
  const repo = await createTempRepo();
  onTestFinished(repo.cleanup);
  await repo.git('remote', 'set-url', 'origin', url);
  await repo.git('tag', '-a', '-m', 'v1', 'v1.0.0');
  return { repo, git: createGit({ cwd: repo.dir, env: { ...repo.env, SLIPWAY_GIT_TIMEOUT: String(DEADLINE_S) } }) };
}

function expectTimeout(error: unknown, ms: number, remote: string): void {
  expect(error).toMatchObject({ name: 'GitTimeoutError', code: 'E_GIT_TIMEOUT', exitCode: 1, timeoutMs: DEADLINE_S * 1000 });
  expect(error).toBeInstanceOf(GitError);
  const message = (error as Error).message;
  expect(message).toContain(remote);
  expect(message).toContain(`within ${DEADLINE_S} s`);
  expect(message).not.toContain(SECRET);
  expect(JSON.stringify(error)).not.toContain(SECRET);
  expect(ms).toBeGreaterThanOrEqual(DEADLINE_S * 1000 - 50);
  expect(ms).toBeLessThan(DEADLINE_S * 1000 + SLACK_MS);
}

describe('git commands that talk to a remote have a deadline', () => {
  for (const mode of ['silent', 'trickle'] as const) {
    it(`${mode} http peer: clone, fetch, ls-remote and push each fail at the deadline, and leave no process or clone behind`, async () => {
      const hostile = await peer(mode);
      const url = `${hostile.url.replace('://', `://deploybot:${SECRET}@`)}/acme/infra.git`;
      const shown = `http://***@127.0.0.1:${hostile.port}/acme/infra.git`;
      const { repo, git } = await repoWithOrigin(url);
      const cloneDir = join(repo.root, 'pins-clone');

      const [clone, fetch, lsRemote, push] = await Promise.all([
        timed(cloneRepository({ url, dir: cloneDir, env: repo.env, remoteTimeoutMs: DEADLINE_S * 1000 })),
        timed(git.fetchBranch('main')),
        timed(git.listRemoteTags('v')),
        timed(git.pushTag('v1.0.0')),
      ]);

      expectTimeout(clone.error, clone.ms, shown);
      expectTimeout(fetch.error, fetch.ms, `origin (${shown})`);
      expectTimeout(lsRemote.error, lsRemote.ms, `origin (${shown})`);
      expectTimeout(push.error, push.ms, `origin (${shown})`);
      expect(hostile.connections()).toBeGreaterThanOrEqual(4);
      // git-remote-http was killed with git: nothing holds a connection to the peer any more.
      await hostile.drained(2_000);
      // The failed clone left no folder that a later run could take for a clone.
      await expect(stat(cloneDir)).rejects.toMatchObject({ code: 'ENOENT' });
      // Nothing local was locked or moved.
      expect(await repo.git('status', '--porcelain')).toBe('');
      expect(await repo.git('rev-parse', 'v1.0.0^{commit}')).toBe(await repo.revParse());
    });
  }

  it('ssh: a peer that accepts and never answers is cut off at the deadline, ssh killed with git', async () => {
    const hostile = await peer('silent');
    const { git } = await repoWithOrigin(`ssh://git@127.0.0.1:${hostile.port}/acme/infra.git`);
    const { error, ms } = await timed(git.fetchBranch('main'));
    expectTimeout(error, ms, `origin (ssh://git@127.0.0.1:${hostile.port}/acme/infra.git)`.replace('git@', '***@'));
    await hostile.drained(2_000);
  });

  it('local commands have no deadline, however short the remote one', async () => {
    const repo = await createTempRepo();
    onTestFinished(repo.cleanup);
    await repo.tag('v1.0.0', { message: 'one' });
    const git = createGit({ cwd: repo.dir, env: { ...repo.env, SLIPWAY_GIT_TIMEOUT: '0.001' } });
    expect(await git.resolveCommit('HEAD')).toBe(repo.initialCommit);
    expect((await git.listTags('v')).map((t) => t.name)).toEqual(['v1.0.0']);
    expect(await git.logBetween({ to: 'HEAD' })).toHaveLength(1);
  });

  it('an invalid SLIPWAY_GIT_TIMEOUT is bad input (exit 2) naming the variable', () => {
    for (const value of ['0', '-5', 'ten', '1e9x']) {
      let error: unknown;
      try {
        createGit({ cwd: tmpdir(), env: { SLIPWAY_GIT_TIMEOUT: value } });
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ name: 'InvalidGitSettingError', code: 'E_GIT_SETTING', exitCode: 2, message: expect.stringContaining(`SLIPWAY_GIT_TIMEOUT="${value}"`) });
    }
  });
});

describe('ssh gets a connect timeout without losing the user’s own ssh command', () => {
  /** A folder holding `ssh` and `wrapper`: each writes its arguments to `<name>.args` and fails. */
  async function fakeSsh() {
    const dir = await mkdtemp(join(tmpdir(), 'slipway-fake-ssh-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    for (const name of ['ssh', 'wrapper']) {
      await writeFile(join(dir, name), `#!/bin/sh\nprintf '%s\\n' "$@" > "${join(dir, `${name}.args`)}"\nexit 255\n`);
      await chmod(join(dir, name), 0o755);
    }
    const args = async (name: string) => (await readFile(join(dir, `${name}.args`), 'utf8')).split('\n').filter(Boolean);
    return { dir, args };
  }

  async function lsRemote(env: Record<string, string>, config: Record<string, string> = {}) {
    const repo = await createTempRepo();
    onTestFinished(repo.cleanup);
    await repo.git('remote', 'set-url', 'origin', 'git@example.invalid:acme/infra.git');
    for (const [key, value] of Object.entries(config)) await repo.git('config', key, value);
    const error = await createGit({ cwd: repo.dir, env: { ...repo.env, ...env } })
      .listRemoteTags('v')
      .catch((e: unknown) => e);
    // The fake ssh fails at once: an ordinary git failure, not a timeout.
    expect(error).toMatchObject({ name: 'GitError', exitCode: 1 });
  }

  it('plain ssh from PATH gets -o ConnectTimeout=30', async () => {
    const ssh = await fakeSsh();
    await lsRemote({ PATH: `${ssh.dir}:${process.env['PATH'] ?? ''}` });
    const args = await ssh.args('ssh');
    expect(args.join(' ')).toContain('-o ConnectTimeout=30');
    expect(args).toContain('git@example.invalid');
  });

  it("the user's GIT_SSH_COMMAND is kept, the timeout appended", async () => {
    const ssh = await fakeSsh();
    await lsRemote({ GIT_SSH_COMMAND: `${join(ssh.dir, 'ssh')} -o User=robot -i /keys/deploy` });
    expect((await ssh.args('ssh')).join(' ')).toMatch(/^-o User=robot -i \/keys\/deploy -o ConnectTimeout=30 .*git@example\.invalid/);
  });

  it("core.sshCommand is kept, the timeout appended; a ConnectTimeout of the user's own is left as it is", async () => {
    const ssh = await fakeSsh();
    await lsRemote({}, { 'core.sshCommand': `${join(ssh.dir, 'ssh')} -o User=robot` });
    expect((await ssh.args('ssh')).join(' ')).toMatch(/^-o User=robot -o ConnectTimeout=30 /);

    await lsRemote({ GIT_SSH_COMMAND: `${join(ssh.dir, 'ssh')} -o ConnectTimeout=5` });
    expect((await ssh.args('ssh')).join(' ')).toMatch(/^-o ConnectTimeout=5 (?!.*ConnectTimeout=30)/);
  });

  it('a wrapper that is not OpenSSH gets nothing it might not understand', async () => {
    const ssh = await fakeSsh();
    await lsRemote({ GIT_SSH_COMMAND: join(ssh.dir, 'wrapper') });
    const args = await ssh.args('wrapper');
    expect(args.join(' ')).not.toContain('ConnectTimeout');
    expect(args).toContain('git@example.invalid');
  });
});
