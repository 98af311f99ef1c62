import { describe, expect, it, onTestFinished } from 'vitest';
import { startGitHubDouble } from './github-double.js';

const SHA_A = 'a'.repeat(40);
const SHA_B = 'b'.repeat(40);

async function setup(options?: Parameters<typeof startGitHubDouble>[0]) {
  const github = await startGitHubDouble(options);
  onTestFinished(github.close);
  github.repo('acme/platform', { commits: [SHA_A, SHA_B] });
  const call = async (method: string, path: string, body?: unknown, token: string | null = 'test-token') => {
    const headers: Record<string, string> = { accept: 'application/vnd.github+json' };
    if (token !== null) headers['authorization'] = `token ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${github.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>) };
  };
  return { github, call };
}

describe('GitHub double: auth', () => {
  it('answers 401 without credentials and with a token it does not know', async () => {
    const { call } = await setup({ tokens: ['good-token'] });
    expect(await call('GET', '/repos/acme/platform/releases', undefined, null)).toMatchObject({
      status: 401,
      body: { message: 'Requires authentication' },
    });
    expect(await call('GET', '/repos/acme/platform/releases', undefined, 'bad-token')).toMatchObject({
      status: 401,
      body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' },
    });
    expect((await call('GET', '/repos/acme/platform/releases', undefined, 'good-token')).status).toBe(200);
  });
});

describe('GitHub double: git refs', () => {
  it('creates a ref once, then answers 422 Reference already exists', async () => {
    const { github, call } = await setup();
    const created = await call('POST', '/repos/acme/platform/git/refs', { ref: 'refs/tags/1.0.0-staging.1', sha: SHA_A });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ref: 'refs/tags/1.0.0-staging.1', object: { type: 'commit', sha: SHA_A } });
    expect(created.headers.get('location')).toBe(`${github.url}/repos/acme/platform/git/refs/tags/1.0.0-staging.1`);

    const again = await call('POST', '/repos/acme/platform/git/refs', { ref: 'refs/tags/1.0.0-staging.1', sha: SHA_B });
    expect(again).toMatchObject({
      status: 422,
      body: {
        message: 'Reference already exists',
        documentation_url: 'https://docs.github.com/rest/git/refs#create-a-reference',
        status: '422',
      },
    });
    expect(github.repo('acme/platform').refs.get('refs/tags/1.0.0-staging.1')).toEqual({ sha: SHA_A, type: 'commit' });
  });

  it('reads refs back by their short name, slashes encoded or not, and 404s missing ones', async () => {
    const { call } = await setup();
    await call('POST', '/repos/acme/platform/git/refs', { ref: 'refs/tags/api/v1.0.0', sha: SHA_A });
    expect((await call('GET', '/repos/acme/platform/git/ref/tags/api/v1.0.0')).body).toMatchObject({ object: { sha: SHA_A } });
    expect((await call('GET', '/repos/acme/platform/git/ref/tags%2Fapi%2Fv1.0.0')).status).toBe(200);
    expect(await call('GET', '/repos/acme/platform/git/ref/tags/api/v9.9.9')).toMatchObject({
      status: 404,
      body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/git/refs#get-a-reference' },
    });
  });

  it('rejects malformed refs and shas with 422', async () => {
    const { call } = await setup();
    expect((await call('POST', '/repos/acme/platform/git/refs', { ref: 'tags/x', sha: SHA_A })).status).toBe(422);
    expect((await call('POST', '/repos/acme/platform/git/refs', { ref: 'refs/tags/x', sha: 'main' })).status).toBe(422);
    expect((await call('POST', '/repos/acme/platform/git/refs', { ref: 'refs/tags/x' })).status).toBe(422);
  });

  it('lets exactly one of 8 concurrent creates win', async () => {
    const { github, call } = await setup();
    const shas = Array.from({ length: 8 }, (_, i) => String(i).repeat(40));
    github.repo('acme/platform', { commits: shas });
    const results = await Promise.all(shas.map((sha) => call('POST', '/repos/acme/platform/git/refs', { ref: 'refs/tags/race', sha })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 422, 422, 422, 422, 422, 422, 422]);
    const winner = results.find((r) => r.status === 201)?.body as { object: { sha: string } };
    expect(github.repo('acme/platform').refs.get('refs/tags/race')?.sha).toBe(winner.object.sha);
  });

  it('stores annotated tag objects and serves them', async () => {
    const { call } = await setup();
    const tag = await call('POST', '/repos/acme/platform/git/tags', { tag: 'v1', message: 'm', object: SHA_A, type: 'commit' });
    expect(tag.status).toBe(201);
    const sha = (tag.body as { sha: string }).sha;
    await call('POST', '/repos/acme/platform/git/refs', { ref: 'refs/tags/v1', sha });
    expect((await call('GET', '/repos/acme/platform/git/ref/tags/v1')).body).toMatchObject({ object: { type: 'tag', sha } });
    expect((await call('GET', `/repos/acme/platform/git/tags/${sha}`)).body).toMatchObject({ tag: 'v1', object: { sha: SHA_A, type: 'commit' } });
  });
});

describe('GitHub double: releases', () => {
  it('creates, finds by tag, refuses a second release for the tag, updates and lists', async () => {
    const { github, call } = await setup();
    await call('POST', '/repos/acme/platform/git/refs', { ref: 'refs/tags/api/v1.0.0', sha: SHA_A });
    const created = await call('POST', '/repos/acme/platform/releases', {
      tag_name: 'api/v1.0.0',
      target_commitish: SHA_A,
      name: 'api v1.0.0',
      body: 'notes',
      prerelease: false,
      make_latest: 'false',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ tag_name: 'api/v1.0.0', name: 'api v1.0.0', body: 'notes', draft: false, prerelease: false });
    const id = (created.body as { id: number }).id;

    expect((await call('GET', '/repos/acme/platform/releases/tags/api%2Fv1.0.0')).body).toMatchObject({ id });
    expect(await call('GET', '/repos/acme/platform/releases/tags/api%2Fv2.0.0')).toMatchObject({
      status: 404,
      body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/releases/releases#get-a-release-by-tag-name' },
    });
    expect(await call('POST', '/repos/acme/platform/releases', { tag_name: 'api/v1.0.0' })).toMatchObject({
      status: 422,
      body: { message: 'Validation Failed', errors: [{ resource: 'Release', code: 'already_exists', field: 'tag_name' }] },
    });

    const updated = await call('PATCH', `/repos/acme/platform/releases/${String(id)}`, { body: 'better notes', make_latest: 'true' });
    expect(updated.body).toMatchObject({ id, body: 'better notes', name: 'api v1.0.0' });
    expect(github.repo('acme/platform').latestReleaseId).toBe(id);
    expect((await call('PATCH', '/repos/acme/platform/releases/999', { body: 'x' })).status).toBe(404);
    expect((await call('GET', '/repos/acme/platform/releases')).body).toHaveLength(1);
  });

  it('creates the tag at target_commitish when publishing a release for a tag that does not exist', async () => {
    const { github, call } = await setup();
    expect((await call('POST', '/repos/acme/platform/releases', { tag_name: 'v1', target_commitish: SHA_B })).status).toBe(201);
    expect(github.repo('acme/platform').refs.get('refs/tags/v1')).toEqual({ sha: SHA_B, type: 'commit' });
    expect((await call('POST', '/repos/acme/platform/releases', { tag_name: 'v2', target_commitish: 'no-such-branch' })).status).toBe(422);
  });

  it('keeps "Latest" away from prereleases and from make_latest=false', async () => {
    const { github, call } = await setup();
    const make = async (tag: string, extra: Record<string, unknown>) =>
      (await call('POST', '/repos/acme/platform/releases', { tag_name: tag, target_commitish: SHA_A, ...extra })).body as { id: number };
    const api = await make('api/v1.0.0', {});
    await make('vault/v1.0.0-rc.1', { prerelease: true });
    expect(github.repo('acme/platform').latestReleaseId).toBe(api.id);
    await make('vault/v1.0.0', { make_latest: 'false' });
    expect(github.repo('acme/platform').latestReleaseId).toBe(api.id);
    const cli = await make('cli/v1.0.0', { make_latest: 'legacy' });
    expect(github.repo('acme/platform').latestReleaseId).toBe(cli.id);
  });

  it('pages the release list with Link headers, newest first', async () => {
    const { github, call } = await setup();
    for (let i = 0; i < 5; i++) await call('POST', '/repos/acme/platform/releases', { tag_name: `v${String(i)}`, target_commitish: SHA_A });
    const first = await call('GET', '/repos/acme/platform/releases?per_page=2');
    expect((first.body as unknown as { tag_name: string }[]).map((r) => r.tag_name)).toEqual(['v4', 'v3']);
    expect(first.headers.get('link')).toContain(`<${github.url}/repos/acme/platform/releases?per_page=2&page=2>; rel="next"`);
    const last = await call('GET', '/repos/acme/platform/releases?per_page=2&page=3');
    expect((last.body as unknown as { tag_name: string }[]).map((r) => r.tag_name)).toEqual(['v0']);
    expect(last.headers.get('link')).not.toContain('rel="next"');
  });
});

describe('GitHub double: dispatches and injected failures', () => {
  it('records repository_dispatch events and enforces GitHub’s payload limit', async () => {
    const { github, call } = await setup();
    github.repo('acme/infra');
    expect((await call('POST', '/repos/acme/infra/dispatches', { event_type: 'deploy', client_payload: { service: 'api' } })).status).toBe(204);
    expect(github.repo('acme/infra').dispatches).toEqual([{ event_type: 'deploy', client_payload: { service: 'api' } }]);
    const tooMany = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${String(i)}`, i]));
    expect(await call('POST', '/repos/acme/infra/dispatches', { event_type: 'deploy', client_payload: tooMany })).toMatchObject({
      status: 422,
      body: { message: 'Invalid request.\n\nNo more than 10 properties are allowed; 11 were supplied.' },
    });
    expect((await call('POST', '/repos/acme/infra/dispatches', {})).status).toBe(422);
  });

  it('fails the next matching request as told, then recovers', async () => {
    const { github, call } = await setup();
    github.failNext({ method: 'GET', path: /\/releases$/, status: 502, times: 2 });
    expect((await call('GET', '/repos/acme/platform/releases')).status).toBe(502);
    expect((await call('GET', '/repos/acme/platform/releases')).status).toBe(502);
    expect((await call('GET', '/repos/acme/platform/releases')).status).toBe(200);
    expect(github.state.requests.map((r) => r.status)).toEqual([502, 502, 200]);
  });

  it('sends headers with an injected failure, and can apply the write before failing it', async () => {
    const { github, call } = await setup();
    github.failNext({ method: 'GET', status: 429, headers: { 'retry-after': '2' } });
    expect((await call('GET', '/repos/acme/platform/releases')).headers.get('retry-after')).toBe('2');

    github.failNext({ method: 'POST', path: /\/git\/refs$/, status: 502, afterApply: true });
    expect((await call('POST', '/repos/acme/platform/git/refs', { ref: 'refs/tags/v1', sha: SHA_A })).status).toBe(502);
    expect(github.repo('acme/platform').refs.get('refs/tags/v1')?.sha).toBe(SHA_A);
  });
});

describe('GitHub double: what real GitHub does that Slipway must cope with', () => {
  it('answers 404 for a repository nobody created, and matches owner/repo case-insensitively', async () => {
    const { github, call } = await setup();
    expect(await call('GET', '/repos/acme/nowhere/releases')).toMatchObject({ status: 404, body: { message: 'Not Found' } });
    expect((await call('POST', '/repos/acme/nowhere/git/refs', { ref: 'refs/tags/x', sha: SHA_A })).status).toBe(404);
    expect(github.state.repos.has('acme/nowhere')).toBe(false);
    expect(await call('GET', '/repos/ACME/Platform')).toMatchObject({ status: 200, body: { full_name: 'acme/platform' } });
    expect((await call('POST', '/repos/Acme/PLATFORM/git/refs', { ref: 'refs/tags/x', sha: SHA_A })).status).toBe(201);
    expect(github.repo('acme/platform').refs.get('refs/tags/x')?.sha).toBe(SHA_A);
  });

  it('answers 422 for a sha that does not exist: refs, tag objects and release targets', async () => {
    const { call } = await setup();
    const unknown = 'c'.repeat(40);
    expect(await call('POST', '/repos/acme/platform/git/refs', { ref: 'refs/tags/x', sha: unknown })).toMatchObject({
      status: 422,
      body: { message: 'Object does not exist' },
    });
    expect((await call('POST', '/repos/acme/platform/git/tags', { tag: 'x', message: 'm', object: unknown, type: 'commit' })).status).toBe(422);
    expect(await call('POST', '/repos/acme/platform/releases', { tag_name: 'x', target_commitish: unknown })).toMatchObject({
      status: 422,
      body: { message: 'Validation Failed', errors: [{ code: 'invalid', field: 'target_commitish' }] },
    });
  });

  it('answers 409 "Git Repository is empty." for git data and releases of a repository without commits', async () => {
    const { github, call } = await setup();
    github.repo('acme/empty');
    for (const [method, path, body] of [
      ['POST', '/repos/acme/empty/git/refs', { ref: 'refs/tags/x', sha: SHA_A }],
      ['GET', '/repos/acme/empty/git/ref/tags/x', undefined],
      ['POST', '/repos/acme/empty/releases', { tag_name: 'x', target_commitish: 'main' }],
    ] as const) {
      expect(await call(method, path, body), `${method} ${path}`).toMatchObject({ status: 409, body: { message: 'Git Repository is empty.' } });
    }
  });

  it('keeps several drafts for one tag; publishing one creates its tag at target_commitish, a second cannot be published', async () => {
    const { github, call } = await setup();
    const one = await call('POST', '/repos/acme/platform/releases', { tag_name: 'v2', target_commitish: SHA_B, draft: true });
    const two = await call('POST', '/repos/acme/platform/releases', { tag_name: 'v2', target_commitish: SHA_A, draft: true });
    expect([one.status, two.status]).toEqual([201, 201]);
    expect(github.repo('acme/platform').refs.has('refs/tags/v2')).toBe(false);
    expect((await call('GET', '/repos/acme/platform/releases/tags/v2')).status).toBe(404);

    expect((await call('PATCH', `/repos/acme/platform/releases/${String(one.body?.['id'])}`, { draft: false, make_latest: 'false' })).status).toBe(200);
    expect(github.repo('acme/platform').refs.get('refs/tags/v2')).toEqual({ sha: SHA_B, type: 'commit' });
    expect(await call('PATCH', `/repos/acme/platform/releases/${String(two.body?.['id'])}`, { draft: false, make_latest: 'false' })).toMatchObject({
      status: 422,
      body: { errors: [{ code: 'already_exists', field: 'tag_name' }] },
    });
    expect((await call('POST', '/repos/acme/platform/releases', { tag_name: 'v2', draft: true })).status).toBe(422);
  });

  it('refuses a client_payload of 64 KB or more', async () => {
    const { github, call } = await setup();
    const big = { blob: 'x'.repeat(64 * 1024) };
    expect(await call('POST', '/repos/acme/platform/dispatches', { event_type: 'deploy', client_payload: big })).toMatchObject({ status: 422 });
    expect((await call('POST', '/repos/acme/platform/dispatches', { event_type: 'deploy', client_payload: { blob: 'x'.repeat(60 * 1024) } })).status).toBe(204);
    expect(github.repo('acme/platform').dispatches).toHaveLength(1);
  });

  it('sends x-ratelimit-* headers on every answer, errors and injected failures included', async () => {
    const { github, call } = await setup();
    github.failNext({ path: '/repos/acme/platform/releases', status: 503 });
    const answers = [
      await call('GET', '/repos/acme/platform/releases'),
      await call('GET', '/repos/acme/platform/releases'),
      await call('GET', '/repos/acme/nowhere/releases'),
      await call('GET', '/repos/acme/platform/releases', undefined, null),
    ];
    expect(answers.map((a) => a.status)).toEqual([503, 200, 404, 401]);
    for (const a of answers) {
      expect(a.headers.get('x-ratelimit-limit')).toBe('5000');
      expect(Number(a.headers.get('x-ratelimit-remaining'))).toBeLessThan(5000);
      expect(Number(a.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
      expect(a.headers.get('x-ratelimit-resource')).toBe('core');
    }
  });
});
