import { inspect } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startGitHubDouble } from '@slipway/testing';
import { createGitHub } from './create-github.js';
import type { GitHubOptions } from './create-github.js';
import { GitHubRefExistsError } from './errors.js';
import type { ReleaseInput } from './types.js';

const TOKEN = 'ghs_retry0123456789abcdefABCDEF0123456';
const SHA_A = 'a'.repeat(40);
const SHA_B = 'b'.repeat(40);
const NOW = Date.parse('2026-11-22T00:00:00Z');

async function setup(retry: GitHubOptions['retry'] = {}, extra: Partial<GitHubOptions> = {}) {
  const double = await startGitHubDouble({ tokens: [TOKEN] });
  onTestFinished(double.close);
  double.repo('acme/platform', { commits: [SHA_A, SHA_B] });
  const slept: number[] = [];
  const github = createGitHub({
    repository: 'acme/platform',
    token: TOKEN,
    baseUrl: double.url,
    retry: {
      sleep: async (ms) => {
        slept.push(ms);
      },
      random: () => 0.5,
      now: () => NOW,
      ...retry,
    },
    ...extra,
  });
  const statuses = (method: string, path: RegExp) => double.state.requests.filter((r) => r.method === method && path.test(r.path)).map((r) => r.status);
  return { double, github, slept, statuses, state: double.repo('acme/platform') };
}

const release = (over: Partial<ReleaseInput> = {}): ReleaseInput => ({
  tag: 'api/v1.2.3',
  name: 'api v1.2.3',
  body: 'notes',
  prerelease: false,
  makeLatest: 'false',
  targetCommitish: SHA_A,
  ...over,
});

describe('retrying transient failures', () => {
  it('a GET that fails twice with 503 succeeds on the third try, after jittered exponential backoff', async () => {
    const { double, github, slept, statuses } = await setup();
    await github.createRef({ ref: 'refs/tags/v1', sha: SHA_A });
    double.failNext({ method: 'GET', path: /\/git\/ref\//, status: 503, times: 2 });

    expect(await github.getRef('refs/tags/v1')).toMatchObject({ commit: SHA_A });
    expect(statuses('GET', /\/git\/ref\//)).toEqual([503, 503, 200]);
    // Steps of 300 and 600 ms, each jittered into [half, full]: random 0.5 → three quarters.
    expect(slept).toEqual([225, 450]);
  });

  it('honours Retry-After on a 429', async () => {
    const { double, github, slept, statuses } = await setup();
    double.failNext({ method: 'GET', status: 429, headers: { 'retry-after': '3' }, body: { message: 'API rate limit exceeded' } });
    expect(await github.getReleaseByTag('api/v1.2.3')).toBeUndefined();
    expect(statuses('GET', /releases/)).toEqual([429, 404]);
    expect(slept).toEqual([3000]);
  });

  it('waits for x-ratelimit-reset on a 403 rate limit when it is near', async () => {
    const { double, github, slept } = await setup();
    const reset = String(NOW / 1000 + 5);
    double.failNext({ method: 'GET', status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }, body: { message: 'API rate limit exceeded' } });
    expect(await github.listReleases()).toEqual([]);
    expect(slept).toEqual([5000]);
  });

  it('fails at once with the rate-limit error when GitHub asks for a wait beyond the cap', async () => {
    const { double, github, slept, statuses } = await setup();
    double.failNext({ method: 'GET', status: 429, headers: { 'retry-after': '60' }, body: { message: 'API rate limit exceeded' } });
    await expect(github.listReleases()).rejects.toMatchObject({ status: 429, code: 'E_GITHUB_RATE_LIMIT', exitCode: 1 });
    double.failNext({ method: 'GET', status: 403, body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes.' } });
    await expect(github.listReleases()).rejects.toMatchObject({ status: 403, code: 'E_GITHUB_RATE_LIMIT' });
    expect(statuses('GET', /releases/)).toEqual([429, 403]);
    expect(slept).toEqual([]);
  });

  it('a 429 without Retry-After or x-ratelimit-* waits at least a minute when the budget allows, longer on a repeat', async () => {
    // The double sends x-ratelimit-* on every answer, remaining well above 0: that is no reset to wait for.
    const { double, github, slept, statuses } = await setup({ maxDelayMs: 5 * 60_000 });
    double.failNext({ method: 'GET', path: /releases/, status: 429, times: 2, body: { message: 'You have exceeded a secondary rate limit.' } });
    expect(await github.listReleases()).toEqual([]);
    expect(statuses('GET', /releases/)).toEqual([429, 429, 200]);
    expect(slept).toEqual([60_000, 120_000]);
  });

  it('a 429 without headers beyond the budget stops at once, exit 1, saying when to retry', async () => {
    const { double, github, slept, statuses } = await setup();
    double.failNext({ method: 'POST', path: /releases/, status: 429, body: { message: 'You have exceeded a secondary rate limit.' } });
    const error = await github.createRelease(release()).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 429, code: 'E_GITHUB_RATE_LIMIT', exitCode: 1, retryAt: new Date(NOW + 60_000).toISOString() });
    expect((error as Error).message).toContain(`retry after ${new Date(NOW + 60_000).toISOString()}`);
    expect(statuses('POST', /releases/)).toEqual([429]);
    expect(slept).toEqual([]);
  });

  it('gives up after 4 tries with the last error', async () => {
    const { double, github, slept, statuses } = await setup();
    double.failNext({ method: 'GET', status: 502, times: 9 });
    await expect(github.listReleases()).rejects.toMatchObject({ status: 502, code: 'E_GITHUB_SERVER', exitCode: 1 });
    expect(statuses('GET', /releases/)).toEqual([502, 502, 502, 502]);
    expect(slept).toEqual([225, 450, 900]);
  });

  it('does not retry 404, 422, 401 or a plain 403', async () => {
    const { double, github, slept, statuses } = await setup();
    expect(await github.getReleaseByTag('nope')).toBeUndefined();
    expect(statuses('GET', /releases\/tags/)).toEqual([404]);

    await github.createRef({ ref: 'refs/tags/v1', sha: SHA_A });
    await expect(github.createRef({ ref: 'refs/tags/v1', sha: SHA_B })).rejects.toBeInstanceOf(GitHubRefExistsError);
    expect(statuses('POST', /git\/refs/)).toEqual([201, 422]);

    double.failNext({ method: 'PATCH', status: 422, body: { message: 'Validation Failed' } });
    await expect(github.updateRelease(1, { body: 'x', makeLatest: 'false' })).rejects.toMatchObject({ status: 422 });
    expect(statuses('PATCH', /releases/)).toEqual([422]);

    double.failNext({ method: 'GET', status: 403, body: { message: 'Resource not accessible by integration' } });
    await expect(github.listReleases()).rejects.toMatchObject({ status: 403, code: 'E_GITHUB_AUTH' });
    expect(statuses('GET', /releases$/)).toEqual([403]);

    const wrong = createGitHub({ repository: 'acme/platform', token: 'ghp_wrongTokenWrongToken0123456789abcd', baseUrl: double.url, retry: { sleep: async () => undefined } });
    await expect(wrong.getRef('refs/tags/v1')).rejects.toMatchObject({ status: 401 });
    // The 200 is createRef reading back what its 422 named, above.
    expect(statuses('GET', /git\/ref\//)).toEqual([200, 401]);
    expect(slept).toEqual([]);
  });

  it('retries every page of a paginated list on its own', async () => {
    const { double, github, statuses } = await setup();
    for (let i = 0; i < 101; i++) await github.createRelease(release({ tag: `v${String(i)}` }));
    double.failNext({ method: 'GET', path: /\/releases$/, status: 500, times: 1 });
    expect(await github.listReleases()).toHaveLength(101);
    expect(statuses('GET', /\/releases$/)).toEqual([500, 200, 200]);
  });

  it('retries a PATCH of a release (same body, same result)', async () => {
    const { double, github, state, statuses } = await setup();
    const created = await github.createRelease(release());
    double.failNext({ method: 'PATCH', status: 502, afterApply: true });
    expect(await github.updateRelease(created.id, { body: 'fixed', makeLatest: 'false' })).toMatchObject({ id: created.id, body: 'fixed' });
    expect(statuses('PATCH', /releases/)).toEqual([502, 200]);
    expect(state.releases).toHaveLength(1);
  });

  it('retries a 2xx whose JSON body was cut off', async () => {
    let cut = true;
    const { github, slept } = await setup(
      {},
      {
        fetch: async (input, init) => {
          const response = await fetch(input, init);
          if (!cut) return response;
          cut = false;
          const text = await response.text();
          return new Response(text.slice(0, text.length / 2), { status: response.status, headers: response.headers });
        },
      },
    );
    expect(await github.createRef({ ref: 'refs/tags/v1', sha: SHA_A })).toMatchObject({ commit: SHA_A });
    expect(slept).toHaveLength(1);
  });

  it('can be turned off', async () => {
    const { double, github, statuses } = await setup({ attempts: 1 });
    double.failNext({ method: 'GET', status: 503 });
    await expect(github.listReleases()).rejects.toMatchObject({ status: 503 });
    expect(statuses('GET', /releases/)).toEqual([503]);
  });
});

describe('writes that may have applied before their answer was lost', () => {
  it('createRef: a retry that finds its own ref counts as won, not taken', async () => {
    const { double, github, state, statuses } = await setup();
    double.failNext({ method: 'POST', path: /\/git\/refs$/, status: 502, afterApply: true });

    const ref = await github.createRef({ ref: 'refs/tags/1.2.0-staging.0', sha: SHA_A });

    expect(ref).toEqual({ ref: 'refs/tags/1.2.0-staging.0', sha: SHA_A, type: 'commit', commit: SHA_A });
    expect(statuses('POST', /git\/refs/)).toEqual([502, 422]);
    expect([...state.refs.keys()]).toEqual(['refs/tags/1.2.0-staging.0']);
  });

  it('createRef: a retry that finds someone else’s ref is still taken', async () => {
    const { double, github } = await setup();
    await github.createRef({ ref: 'refs/tags/1.2.0-staging.0', sha: SHA_B });
    double.failNext({ method: 'POST', path: /\/git\/refs$/, status: 503 });
    const error = await github.createRef({ ref: 'refs/tags/1.2.0-staging.0', sha: SHA_A }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubRefExistsError);
    expect(error).toMatchObject({ exitCode: 3, existing: { commit: SHA_B } });
  });

  it('createRef: a first-try 422 at our own sha stays an error (another run made it), as before', async () => {
    const { github } = await setup();
    await github.createRef({ ref: 'refs/tags/v1', sha: SHA_A });
    await expect(github.createRef({ ref: 'refs/tags/v1', sha: SHA_A })).rejects.toMatchObject({ name: 'GitHubRefExistsError', existing: { commit: SHA_A } });
  });

  it('ensureRelease: a create whose answer was lost ends as one release, reported created', async () => {
    const { double, github, state, statuses } = await setup();
    double.failNext({ method: 'POST', path: /\/releases$/, status: 500, afterApply: true });
    const result = await github.ensureRelease(release());
    expect(result).toMatchObject({ action: 'created', release: { tag: 'api/v1.2.3', body: 'notes' } });
    expect(statuses('POST', /releases/)).toEqual([500, 422]);
    expect(state.releases).toHaveLength(1);
  });

  it('repositoryDispatch: at least once — a lost answer means a second event', async () => {
    const { double, github, state } = await setup();
    double.failNext({ method: 'POST', path: /\/dispatches$/, status: 502, afterApply: true });
    await github.repositoryDispatch({ eventType: 'deploy', clientPayload: { digest: 'sha256:abc' } });
    expect(state.dispatches).toHaveLength(2);
  });

  it('a network failure on every try ends as a network error carrying no token', async () => {
    const { double } = await setup();
    const url = double.url;
    await double.close();
    const slept: number[] = [];
    const github = createGitHub({ repository: 'acme/platform', token: TOKEN, baseUrl: url, retry: { sleep: async (ms) => void slept.push(ms) } });
    const error = await github.createRef({ ref: 'refs/tags/v1', sha: SHA_A }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_GITHUB_NETWORK', exitCode: 1 });
    expect(slept).toHaveLength(3);
    expect(inspect(error, { depth: Infinity, showHidden: true, getters: true })).not.toContain(TOKEN);
  });

  it('a token echoed in a rate-limit answer never reaches the error', async () => {
    const { double, github } = await setup();
    double.failNext({ status: 429, headers: { 'retry-after': '120' }, body: { message: `slow down ${TOKEN}` } });
    const error = await github.listReleases().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_GITHUB_RATE_LIMIT' });
    expect(inspect(error, { depth: Infinity, showHidden: true, getters: true })).not.toContain(TOKEN);
  });
});
