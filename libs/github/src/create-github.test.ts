import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inspect, promisify } from 'node:util';
import { Octokit } from '@octokit/rest';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startGitHubDouble } from '@slipway/testing';
import { createGitHub } from './create-github.js';
import { GitHubError, GitHubRefExistsError, ReleaseConflictError } from './errors.js';
import type { ReleaseInput } from './types.js';

const run = promisify(execFile);
const TOKEN = 'ghs_double0123456789abcdefABCDEF012345';
const SHA_A = 'a'.repeat(40);
const SHA_B = 'b'.repeat(40);

async function setup() {
  const double = await startGitHubDouble({ tokens: [TOKEN] });
  onTestFinished(double.close);
  // Retries wait on nothing here; retry.test.ts checks the waits.
  const github = createGitHub({ repository: 'acme/platform', token: TOKEN, baseUrl: double.url, retry: { sleep: async () => undefined } });
  return { double, github, state: double.repo('acme/platform', { commits: [SHA_A, SHA_B] }) };
}

const release = (over: Partial<ReleaseInput> = {}): ReleaseInput => ({
  tag: 'api/v1.2.3',
  name: 'api v1.2.3',
  body: '## Features\n\n- thing (#12)\n',
  prerelease: false,
  makeLatest: 'false',
  targetCommitish: SHA_A,
  ...over,
});

describe('createRef', () => {
  it('creates a ref, then reports GitHub’s 422 as GitHubRefExistsError with what the ref points at', async () => {
    const { github, state } = await setup();
    expect(await github.createRef({ ref: 'refs/tags/1.2.0-staging.1', sha: SHA_A })).toEqual({
      ref: 'refs/tags/1.2.0-staging.1',
      sha: SHA_A,
      type: 'commit',
      commit: SHA_A,
    });

    const error = await github.createRef({ ref: 'refs/tags/1.2.0-staging.1', sha: SHA_B }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(GitHubRefExistsError);
    expect(error).toMatchObject({ code: 'E_GITHUB_REF_EXISTS', exitCode: 3, status: 422, existing: { commit: SHA_A } });
    expect(state.refs.get('refs/tags/1.2.0-staging.1')?.sha).toBe(SHA_A);
  });

  it('lets exactly one of 8 concurrent creates win', async () => {
    const { double, github, state } = await setup();
    const shas = Array.from({ length: 8 }, (_, i) => String(i).repeat(40));
    double.repo('acme/platform', { commits: shas });
    const results = await Promise.allSettled(shas.map((sha) => github.createRef({ ref: 'refs/tags/2.0.0-staging.0', sha })));

    const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.sha] : []));
    const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(7);
    for (const e of lost) {
      expect(e).toBeInstanceOf(GitHubRefExistsError);
      expect((e as GitHubRefExistsError).existing?.commit).toBe(won[0]);
    }
    expect(state.refs.get('refs/tags/2.0.0-staging.0')?.sha).toBe(won[0]);
  });

  it('reads refs by full or short name, peels annotated tags, and answers undefined for missing refs', async () => {
    const { double, github } = await setup();
    const octokit = new Octokit({ auth: TOKEN, baseUrl: double.url });
    const tag = await octokit.rest.git.createTag({ owner: 'acme', repo: 'platform', tag: 'api/v1.0.0', message: 'm', object: SHA_B, type: 'commit' });
    await github.createRef({ ref: 'refs/tags/api/v1.0.0', sha: tag.data.sha });

    expect(await github.getRef('refs/tags/api/v1.0.0')).toEqual({ ref: 'refs/tags/api/v1.0.0', sha: tag.data.sha, type: 'tag', commit: SHA_B });
    expect(await github.getRef('tags/api/v1.0.0')).toMatchObject({ commit: SHA_B });
    expect(await github.getRef('refs/tags/api/v9.9.9')).toBeUndefined();
  });
});

describe('ensureRelease', () => {
  it('creates, then leaves an identical release alone, then updates changed notes', async () => {
    const { github, state } = await setup();

    const first = await github.ensureRelease(release());
    expect(first.action).toBe('created');
    expect(first.release).toMatchObject({ tag: 'api/v1.2.3', name: 'api v1.2.3', prerelease: false, draft: false });
    expect(state.refs.get('refs/tags/api/v1.2.3')?.sha).toBe(SHA_A);

    const again = await github.ensureRelease(release());
    expect(again).toEqual({ release: first.release, action: 'unchanged' });

    const updated = await github.ensureRelease(release({ body: 'fixed notes' }));
    expect(updated.action).toBe('updated');
    expect(state.releases).toHaveLength(1);
    expect(state.releases[0]?.body).toBe('fixed notes');
  });

  it('refuses a release for the tag that belongs to another commit, touching nothing', async () => {
    const { github, state } = await setup();
    await github.ensureRelease(release());
    const before = JSON.stringify(state.releases);

    const error = await github.ensureRelease(release({ targetCommitish: SHA_B, body: 'other' })).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ReleaseConflictError);
    expect(error).toMatchObject({ code: 'E_GITHUB_RELEASE_CONFLICT', exitCode: 3, tag: 'api/v1.2.3', expected: SHA_B, actual: SHA_A });
    expect(JSON.stringify(state.releases)).toBe(before);
  });

  it('refuses to create a release when GitHub’s tag names another commit', async () => {
    const { github, state } = await setup();
    await github.createRef({ ref: 'refs/tags/api/v1.2.3', sha: SHA_B });
    await expect(github.ensureRelease(release())).rejects.toMatchObject({ name: 'ReleaseConflictError', actual: SHA_B });
    expect(state.releases).toEqual([]);
  });

  it('is safe when several jobs ensure the same release at once', async () => {
    const { github, state } = await setup();
    const results = await Promise.all(Array.from({ length: 5 }, () => github.ensureRelease(release())));
    expect(results.map((r) => r.action).sort()).toEqual(['created', 'unchanged', 'unchanged', 'unchanged', 'unchanged']);
    expect(state.releases).toHaveLength(1);
  });

  it('publishes its own release beside several drafts of the tag, leaving the drafts as they are', async () => {
    const { double, github, state } = await setup();
    const octokit = new Octokit({ auth: TOKEN, baseUrl: double.url });
    // Drafts do not hold a tag on GitHub: someone's notes in progress, one even aimed at another commit.
    await octokit.rest.repos.createRelease({ owner: 'acme', repo: 'platform', tag_name: 'api/v1.2.3', target_commitish: SHA_B, body: 'draft one', draft: true });
    await octokit.rest.repos.createRelease({ owner: 'acme', repo: 'platform', tag_name: 'api/v1.2.3', target_commitish: 'main', body: 'draft two', draft: true });

    expect((await github.ensureRelease(release())).action).toBe('created');
    expect(state.refs.get('refs/tags/api/v1.2.3')?.sha).toBe(SHA_A);
    expect(state.releases.filter((r) => !r.draft)).toMatchObject([{ tag_name: 'api/v1.2.3', body: release().body }]);
    expect(state.releases.filter((r) => r.draft).map((r) => r.body)).toEqual(['draft one', 'draft two']);
    expect((await github.ensureRelease(release())).action).toBe('unchanged');
    expect(state.releases).toHaveLength(3);
  });

  it('sets prerelease and make_latest per service so a prerelease never takes “Latest”', async () => {
    const { github, state } = await setup();
    const api = await github.ensureRelease(release({ makeLatest: 'true' }));
    await github.ensureRelease(release({ tag: 'vault/v2.0.0-rc.1', name: 'vault v2.0.0-rc.1', prerelease: true, makeLatest: 'true', targetCommitish: SHA_B }));
    await github.ensureRelease(release({ tag: 'cli/v3.0.0', name: 'cli v3.0.0', makeLatest: 'false', targetCommitish: SHA_B }));

    expect(state.latestReleaseId).toBe(api.release.id);
    expect(state.releases.find((r) => r.tag_name === 'vault/v2.0.0-rc.1')?.prerelease).toBe(true);
  });

  it('rejects a target that is not a full commit sha as bad input', async () => {
    const { github } = await setup();
    await expect(github.ensureRelease(release({ targetCommitish: 'main' }))).rejects.toMatchObject({ exitCode: 2, code: 'E_GITHUB_INPUT' });
  });
});

describe('releases by tag and list', () => {
  it('answers undefined for a missing release and lists every page', async () => {
    const { github } = await setup();
    expect(await github.getReleaseByTag('api/v0.0.1')).toBeUndefined();
    for (let i = 0; i < 105; i++) await github.createRelease(release({ tag: `v${String(i)}`, name: `v${String(i)}` }));
    const all = await github.listReleases();
    expect(all).toHaveLength(105);
    expect(all[0]?.tag).toBe('v104');
    expect((await github.getReleaseByTag('v7'))?.name).toBe('v7');
  });

  it('updates only the fields given', async () => {
    const { github } = await setup();
    const created = await github.createRelease(release());
    const updated = await github.updateRelease(created.id, { prerelease: true, makeLatest: 'false' });
    expect(updated).toMatchObject({ id: created.id, prerelease: true, body: release().body, name: 'api v1.2.3' });
    await expect(github.updateRelease(9999, { body: 'x', makeLatest: 'false' })).rejects.toMatchObject({ status: 404, code: 'E_GITHUB_NOT_FOUND', exitCode: 1 });
  });
});

describe('repositoryDispatch', () => {
  it('sends the event with its payload', async () => {
    const { double } = await setup();
    double.repo('acme/infra');
    const infra = createGitHub({ repository: 'acme/infra', token: TOKEN, baseUrl: double.url });
    await infra.repositoryDispatch({ eventType: 'slipway-deploy', clientPayload: { service: 'api', digest: 'sha256:abc' } });
    expect(double.repo('acme/infra').dispatches).toEqual([{ event_type: 'slipway-deploy', client_payload: { service: 'api', digest: 'sha256:abc' } }]);
  });

  it('reports GitHub’s validation failure as bad input', async () => {
    const { github } = await setup();
    const payload = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${String(i)}`, i]));
    const error = await github.repositoryDispatch({ eventType: 'deploy', clientPayload: payload }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'GitHubError', status: 422, code: 'E_GITHUB_VALIDATION', exitCode: 2 });
    expect((error as Error).message).toContain('No more than 10 properties');
  });
});

describe('errors at the edge', () => {
  const serialized = (e: unknown) => inspect(e, { depth: Infinity, showHidden: true, getters: true });

  it('translates 401 without carrying the token or the request', async () => {
    const { double } = await setup();
    const wrong = 'ghp_wrongTokenWrongToken0123456789abcd';
    const github = createGitHub({ repository: 'acme/platform', token: wrong, baseUrl: double.url });
    const error = await github.createRef({ ref: 'refs/tags/x', sha: SHA_A }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(GitHubError);
    expect(error).toMatchObject({ status: 401, code: 'E_GITHUB_AUTH', exitCode: 1, method: 'POST', path: '/repos/acme/platform/git/refs' });
    expect((error as Error).message).toContain('Bad credentials');
    expect(serialized(error)).not.toContain(wrong);
    expect(serialized(error)).not.toMatch(/authorization/i);
  });

  it('scrubs the token even when the server echoes it back', async () => {
    const { double, github } = await setup();
    double.failNext({ status: 502, body: { message: `upstream rejected token ${TOKEN}` }, times: 4 });
    const error = await github.getReleaseByTag('api/v1.2.3').catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 502, code: 'E_GITHUB_SERVER', exitCode: 1 });
    expect(double.state.requests.map((r) => r.status)).toEqual([502, 502, 502, 502]);
    expect((error as Error).message).toContain('upstream rejected token ***');
    expect(serialized(error)).not.toContain(TOKEN);
  });

  it('reports an unreachable API as a network error without the token', async () => {
    const { double } = await setup();
    const url = double.url;
    await double.close();
    let tries = 0;
    const github = createGitHub({
      repository: 'acme/platform',
      token: TOKEN,
      baseUrl: url,
      retry: { sleep: async () => undefined },
      fetch: (input, init) => {
        tries++;
        return fetch(input, init);
      },
    });

    const error = await github.getRef('refs/tags/x').catch((e: unknown) => e);
    expect(tries).toBe(4);

    expect(error).toMatchObject({ name: 'GitHubError', code: 'E_GITHUB_NETWORK', exitCode: 1, status: undefined });
    expect((error as Error).message).toMatch(/ECONNREFUSED|fetch failed/);
    expect(serialized(error)).not.toContain(TOKEN);
  });

  it('sends every request through the injected fetch', async () => {
    const { double } = await setup();
    const seen: string[] = [];
    const github = createGitHub({
      repository: 'acme/platform',
      token: TOKEN,
      baseUrl: `${double.url}/`,
      fetch: (input, init) => {
        seen.push(`${init?.method ?? 'GET'} ${String(input)}`);
        return fetch(input, init);
      },
    });
    await github.getReleaseByTag('api/v1.2.3');
    expect(seen).toEqual([`GET ${double.url}/repos/acme/platform/releases/tags/api%2Fv1.2.3`]);
  });

  it('prints nothing when a request fails (Octokit would log to stderr by default)', async () => {
    const { double } = await setup();
    const dir = await mkdtemp(join(tmpdir(), 'slipway-github-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const script = join(dir, 'fail.mts');
    const entry = pathToFileURL(fileURLToPath(new URL('./index.ts', import.meta.url))).href;
    await writeFile(
      script,
      `import { createGitHub } from ${JSON.stringify(entry)};\n` +
        `const github = createGitHub({ repository: 'acme/platform', token: 'wrong-token', baseUrl: ${JSON.stringify(double.url)} });\n` +
        `await github.createRef({ ref: 'refs/tags/x', sha: '${SHA_A}' }).catch((e) => { process.stdout.write(e.code); });\n`,
    );
    const { stdout, stderr } = await run(process.execPath, ['--conditions=@slipway/source', '--import', 'tsx', script], { cwd: fileURLToPath(new URL('..', import.meta.url)) });
    expect(stdout).toBe('E_GITHUB_AUTH');
    expect(stderr).toBe('');
  });

  it('rejects a malformed repository name up front', () => {
    expect(() => createGitHub({ repository: 'acme', token: TOKEN })).toThrow(/owner\/name/);
  });
});

describe('errors that a re-run cannot fix', () => {
  it('an empty repository (409 "Git Repository is empty.") is exit 2 with the fix, and nothing is written', async () => {
    const { double } = await setup();
    const empty = double.repo('acme/empty');
    const github = createGitHub({ repository: 'acme/empty', token: TOKEN, baseUrl: double.url, retry: { sleep: async () => undefined } });
    for (const attempt of [() => github.ensureRelease(release()), () => github.createRef({ ref: 'refs/tags/1.0.0-staging.0', sha: SHA_A })]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 409, code: 'E_GITHUB_EMPTY_REPOSITORY', exitCode: 2 });
      expect((error as Error).message).toContain('acme/empty has no commits on GitHub yet: push the main branch there first');
    }
    expect([empty.refs.size, empty.releases.length]).toEqual([0, 0]);
  });

  it('a release create answered 404 in a readable repository is the missing workflow scope: exit 3 with the fix', async () => {
    const { double, github, state } = await setup();
    // What GitHub sends when the commit changes .github/workflows and the token lacks `workflow` (cli/cli#9773).
    double.failNext({ method: 'POST', path: '/repos/acme/platform/releases', status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/releases/releases#create-a-release', status: '404' } });
    const error = await github.ensureRelease(release()).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 404, code: 'E_GITHUB_WORKFLOW_SCOPE', exitCode: 3 });
    expect((error as Error).message).toMatch(/lacks the "workflow" scope/);
    expect(state.releases).toEqual([]);
  });

  it('a repository that does not exist (or is invisible to the token) is exit 2 naming it; owner/name case does not matter', async () => {
    const { double, state } = await setup();
    const nowhere = createGitHub({ repository: 'acme/nowhere', token: TOKEN, baseUrl: double.url, retry: { sleep: async () => undefined } });
    await expect(nowhere.ensureRelease(release())).rejects.toMatchObject({ status: 404, code: 'E_GITHUB_REPOSITORY_NOT_FOUND', exitCode: 2 });
    await expect(nowhere.repositoryDispatch({ eventType: 'deploy' })).rejects.toMatchObject({ code: 'E_GITHUB_REPOSITORY_NOT_FOUND', exitCode: 2 });

    const shouting = createGitHub({ repository: 'ACME/Platform', token: TOKEN, baseUrl: double.url });
    expect((await shouting.ensureRelease(release())).action).toBe('created');
    expect(state.releases).toHaveLength(1);
  });
});
