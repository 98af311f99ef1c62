import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createTempRepo, processRunning, startHostileGitPeer } from '@slipway/testing';
import { GitError } from './errors.js';
import { createBatchRunner, createRunner } from './run-git.js';

// The git runner on node:child_process: what execa used to give it, kept — statuses, stdin, bytes,
// "could not run" for a git that cannot start (redacted), and no git left running once Slipway is
// stopped by a signal.

const SECRET = 'tok-Rn7Wq2';

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-run-git-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function failure(promise: Promise<unknown>): Promise<GitError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GitError);
  return error as GitError;
}

describe('the git runner', () => {
  it('returns stdout and stderr as text with their final newline, the status, and takes stdin', async () => {
    const repo = await createTempRepo();
    onTestFinished(repo.cleanup);
    const run = createRunner({ cwd: repo.dir, env: repo.env });
    const head = await run(['rev-parse', 'HEAD']);
    expect(head).toEqual({ stdout: `${repo.initialCommit}\n`, stderr: '', status: 0 });
    const hashed = await run(['hash-object', '--stdin'], { input: 'hello\n' });
    expect(hashed.stdout).toBe('ce013625030ba8dba906f756967f9e9ca394464a\n');
    const missing = await run(['rev-parse', '--verify', '--quiet', 'nope^{commit}'], { okStatus: [0, 1] });
    expect(missing).toEqual({ stdout: '', stderr: '', status: 1 });
  });

  it('a status outside okStatus is a GitError with the status, the stderr and the command, secrets redacted', async () => {
    const repo = await createTempRepo();
    onTestFinished(repo.cleanup);
    const run = createRunner({ cwd: repo.dir, env: repo.env, secrets: [SECRET] });
    const error = await failure(run(['rev-parse', '--verify', `${SECRET}^{commit}`]));
    expect(error).toMatchObject({ status: 128, exitCode: 1, command: 'git rev-parse --verify ***^{commit}' });
    expect(error.stderr).toContain('fatal');
    expect(error.message).toMatch(/^git rev-parse --verify \*\*\*\^\{commit\} failed \(exit 128\): /);
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain(SECRET);
  });

  it('the batch runner returns bytes as git wrote them, NUL and invalid UTF-8 included', async () => {
    const repo = await createTempRepo();
    onTestFinished(repo.cleanup);
    const bytes = Uint8Array.from([0x00, 0xff, 0xfe, 0x0a, 0x41]);
    await writeFile(join(repo.dir, 'blob.bin'), bytes);
    const run = createRunner({ cwd: repo.dir, env: repo.env });
    const oid = (await run(['hash-object', '-w', 'blob.bin'])).stdout.trim();
    const out = await createBatchRunner({ cwd: repo.dir, env: repo.env })(['cat-file', '--batch'], `${oid}\n`);
    expect(out).toBeInstanceOf(Uint8Array);
    const header = new TextEncoder().encode(`${oid} blob 5\n`);
    expect([...out]).toEqual([...header, ...bytes, 0x0a]);
  });

  it('a folder that does not exist: "could not run", saying which, with no status and the secret redacted', async () => {
    const dir = join(await tempDir(), `gone-${SECRET}`);
    const error = await failure(createRunner({ cwd: dir, secrets: [SECRET] })(['status']));
    expect(error.message).toMatch(/^could not run git status: the folder .*gone-\*\*\* does not exist/);
    expect(error).toMatchObject({ status: undefined, exitCode: 1, command: 'git status' });
    expect(error.message).not.toContain(SECRET);
    const batch = await failure(createBatchRunner({ cwd: dir })(['cat-file', '--batch'], 'HEAD\n'));
    expect(batch.message).toMatch(/^could not run git cat-file --batch: the folder .* does not exist/);
  });

  it('no git on PATH: "could not run", saying git is missing', async () => {
    const empty = await tempDir();
    const error = await failure(createRunner({ cwd: empty, env: { PATH: empty } })(['--version']));
    expect(error.message).toMatch(/^could not run git --version: git is not installed or not on PATH/);
    expect(error.status).toBeUndefined();
  });

  it('a git that is killed is "could not run", naming the signal, not a status', async () => {
    const repo = await createTempRepo();
    onTestFinished(repo.cleanup);
    // core.pager is not used without a tty; an editor that kills its parent git is.
    const run = createRunner({ cwd: repo.dir, env: { ...repo.env, GIT_EDITOR: 'kill -KILL $PPID' } });
    const error = await failure(run(['commit', '--allow-empty']));
    expect(error.message).toMatch(/^could not run git commit --allow-empty: git was killed by SIGKILL/);
    expect(error.status).toBeUndefined();
  });
});

describe('git does not outlive Slipway', () => {
  it('stopped by SIGTERM while git waits on a remote: git and its helper are stopped, Slipway dies of the signal', async () => {
    const hostile = await startHostileGitPeer({ mode: 'silent' });
    onTestFinished(() => hostile.close());
    const repo = await createTempRepo();
    onTestFinished(repo.cleanup);
    await repo.git('remote', 'set-url', 'origin', `${hostile.url}/acme/infra.git`);
    const createGitUrl = new URL('./create-git.ts', import.meta.url).href;
    const script = `import { createGit } from ${JSON.stringify(createGitUrl)};\nawait createGit({ cwd: process.argv[1] }).fetchBranch('main');\n`;
    const child = spawn(process.execPath, ['--conditions=@slipway/source', '--import', 'tsx', '--input-type=module', '-e', script, repo.dir], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, ...repo.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    // Wait until git (through git-remote-http) holds a connection to the peer.
    for (let i = 0; i < 400 && hostile.open() === 0; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(hostile.open()).toBeGreaterThan(0);
    const gits = gitChildren(child.pid as number);
    expect(gits.length).toBeGreaterThan(0);

    child.kill('SIGTERM');
    expect(await exited).toEqual({ code: null, signal: 'SIGTERM' });
    await hostile.drained(5_000);
    const running = async () => (await Promise.all(gits.map(async (pid) => ((await processRunning(pid)) ? [pid] : [])))).flat();
    for (let i = 0; i < 200 && (await running()).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(await running()).toEqual([]);
  });
});

/** Pids of the git processes whose parent is `pid` (Linux /proc). */
function gitChildren(pid: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && comm === 'git') found.push(Number(name));
    } catch {
      // gone
    }
  }
  return found;
}
