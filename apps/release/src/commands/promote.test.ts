import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePin, parseTrailers } from '@slipway/pins';
import { describe, expect, it, onTestFinished } from 'vitest';
import { json, pinsWorkspace, type PinsWorkspace } from '../../test/pins-fixtures.js';
import { runCli } from '../../test/run-cli.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;

/** What must not change when a promotion is refused: the origin's history and the pins checkout. */
async function snapshot(ws: PinsWorkspace) {
  return {
    log: await ws.originLog(),
    head: await ws.pinsRepo.revParse(),
    status: await ws.pinsRepo.git('status', '--porcelain', '--untracked-files=all', '--', '.', ':!.slipway'),
  };
}

describe('slipway promote: staging → canary → production', () => {
  it('passes the chain in order, refuses it out of order and without a listed approver (exit 3)', async () => {
    const ws = await pinsWorkspace();
    const d1 = await ws.publish('api', 'v1.0.0');

    const early = await ws.run(['promote', 'api', '--to', 'canary', '--version', '1.0.0', '--json']);
    expect(early.exitCode).toBe(3);
    expect(json<{ error: { code: string; message: string } }>(early).error).toMatchObject({ code: 'E_GATE_REFUSED' });
    expect(early.stdout).toMatch(/canary accepts only a digest that went through staging/);
    expect(await ws.originLog()).toEqual(['chore: initial commit']);

    const staging = await ws.run(['promote', 'api', '--to', 'staging', '--version', '1.0.0', '--json']);
    expect(staging.exitCode, staging.stdout + staging.stderr).toBe(0);
    expect(json(staging)).toMatchObject({
      service: 'api',
      environment: 'staging',
      status: 'promoted',
      digest: d1,
      version: '1.0.0',
      tag: 'api/v1.0.0',
      from: 'release',
      promotedBy: 'alice',
      path: 'deploy/staging/api.yaml',
      pushed: true,
    });
    const pin = parsePin((await ws.originFile('deploy/staging/api.yaml')) ?? '');
    expect(pin).toMatchObject({ service: 'api', environment: 'staging', version: '1.0.0', digest: d1, tag: 'api/v1.0.0', promotedBy: 'alice', from: 'release' });
    expect(pin.image).toBe(`oci-layout:${ws.layoutDir}/api`);
    expect(pin.promotedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    expect((await ws.run(['promote', 'api', '--to', 'canary', '--version', '1.0.0'])).exitCode).toBe(0);

    const unapproved = await ws.run(['promote', 'api', '--to', 'production', '--version', '1.0.0']);
    expect(unapproved.exitCode).toBe(3);
    expect(unapproved.stderr).toMatch(/production needs 1 approval from release-manager \(--approved-by\); got none/);
    const outsider = await ws.run(['promote', 'api', '--to', 'production', '--version', '1.0.0', '--approved-by', 'mallory']);
    expect(outsider.exitCode).toBe(3);
    expect(outsider.stderr).toMatch(/not approvers: mallory/);
    expect(await ws.originLog()).toHaveLength(3);

    const approved = await ws.run(['promote', 'api', '--to', 'production', '--version', '1.0.0', '--approved-by', 'mallory', 'release-manager', '--json']);
    expect(approved.exitCode, approved.stderr).toBe(0);
    expect(json(approved)).toMatchObject({ status: 'promoted', from: 'canary', approvedBy: ['release-manager'] });

    // One commit per promotion, with the trailers of CONTRACT §5.
    expect(await ws.originLog()).toEqual([
      'promote api 1.0.0 to production',
      'promote api 1.0.0 to canary',
      'promote api 1.0.0 to staging',
      'chore: initial commit',
    ]);
    const [newest] = await ws.originMessages();
    expect(parseTrailers(newest ?? '')).toEqual({
      service: 'api',
      environment: 'production',
      version: '1.0.0',
      digest: d1,
      from: 'canary',
      approvedBy: ['release-manager'],
    });
    expect(newest).toContain('Slipway-Approved-By: release-manager');
    expect(await ws.pinsRepo.git('-C', ws.pinsOrigin, 'log', '-1', '--format=%an <%ae>', 'main')).toBe('alice <alice@users.noreply.github.com>');

    // A newer version skipping canary is refused even with the approver.
    await ws.publish('api', 'v1.1.0');
    expect((await ws.run(['promote', 'api', '--to', 'staging', '--version', '1.1.0'])).exitCode).toBe(0);
    const skip = await ws.run(['promote', 'api', '--to', 'production', '--version', '1.1.0', '--approved-by', 'release-manager']);
    expect(skip.exitCode).toBe(3);
    expect(skip.stderr).toMatch(/production accepts only a digest that went through canary/);
  });

  it('re-promoting the pinned digest is a no-op success without an empty commit', async () => {
    const ws = await pinsWorkspace();
    await ws.publish('api', 'v1.0.0');
    expect((await ws.run(['promote', 'api', '--to', 'staging', '--version', '1.0.0'])).exitCode).toBe(0);
    const before = await ws.originLog();

    const again = await ws.run(['promote', 'api', '--to', 'staging', '--version', 'v1.0.0', '--json']);
    expect(again.exitCode).toBe(0);
    expect(json(again)).toMatchObject({ status: 'unchanged', commit: null, pushed: false });
    expect(await ws.originLog()).toEqual(before);
    const human = await ws.run(['promote', 'api', '--to', 'staging', '--version', '1.0.0']);
    expect(human.stdout).toMatch(/^staging already pins api 1\.0\.0 \(sha256:[0-9a-f]{12}\); nothing to do/);
  });

  it('a canary that once ran a digest still lets it through after canary moved on ("promoted through")', async () => {
    const ws = await pinsWorkspace();
    await ws.publish('api', 'v1.0.0');
    await ws.publish('api', 'v1.1.0');
    for (const [env, v] of [['staging', '1.0.0'], ['canary', '1.0.0'], ['staging', '1.1.0'], ['canary', '1.1.0']] as const) {
      expect((await ws.run(['promote', 'api', '--to', env, '--version', v])).exitCode).toBe(0);
    }
    const r = await ws.run(['promote', 'api', '--to', 'production', '--version', '1.0.0', '--approved-by', 'release-manager']);
    expect(r.exitCode, r.stderr).toBe(0);
  });
});

describe('slipway promote: what to pin', () => {
  it('--manifest pins the manifest’s digest by reference, never re-resolving its tag', async () => {
    const ws = await pinsWorkspace();
    const published = await ws.publish('api', 'v1.2.3');
    const manifestPath = join(ws.repo.root, 'release.json');
    await writeFile(
      manifestPath,
      JSON.stringify({
        schema: 1,
        service: 'api',
        version: '1.2.3',
        tag: 'api/v1.2.3',
        commit: 'a'.repeat(40),
        image: `oci-layout:${ws.layoutDir}/api`,
        digest: published,
        tags: ['v1.2.3', 'latest'],
        prerelease: false,
        deploy: true,
        createdAt: '2026-11-21T10:00:00Z',
      }),
    );
    await ws.publish('api', 'v1.2.3'); // the tag moves; the manifest still names what was released

    const r = await ws.run(['promote', 'api', '--to', 'staging', '--manifest', manifestPath, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ digest: published, version: '1.2.3', tag: 'api/v1.2.3' });
    expect(parsePin((await ws.originFile('deploy/staging/api.yaml')) ?? '').digest).toBe(published);
  });

  it('--digest pins as given, and takes version and tag from the record when it knows the digest', async () => {
    const ws = await pinsWorkspace();
    const d1 = await ws.publish('api', 'v1.0.0');
    const unknown = await ws.run(['promote', 'api', '--to', 'staging', '--digest', D('e'), '--json']);
    expect(unknown.exitCode, unknown.stderr).toBe(0);
    expect(json(unknown)).toMatchObject({ digest: D('e'), version: null, tag: null });
    expect(await ws.originLog()).toContain(`promote api sha256:eeeeeeeeeeee to staging`);
    const pin = parsePin((await ws.originFile('deploy/staging/api.yaml')) ?? '');
    expect(pin.version).toBeUndefined();

    expect((await ws.run(['promote', 'api', '--to', 'staging', '--version', '1.0.0'])).exitCode).toBe(0);
    const byDigest = await ws.run(['promote', 'api', '--to', 'canary', '--digest', d1, '--json']);
    expect(byDigest.exitCode, byDigest.stderr).toBe(0);
    expect(json(byDigest)).toMatchObject({ digest: d1, version: '1.0.0', tag: 'api/v1.0.0', from: 'staging' });
  });

  it('bad references exit 2 and write nothing', async () => {
    const ws = await pinsWorkspace();
    await ws.publish('api', 'v1.0.0');
    const noDigest = join(ws.repo.root, 'no-digest.json');
    await writeFile(
      noDigest,
      JSON.stringify({ schema: 1, service: 'api', version: '1.0.0', tag: 'api/v1.0.0', commit: 'a'.repeat(40), image: 'x', tags: [], prerelease: false, deploy: true, createdAt: '2026-11-21T10:00:00Z' }),
    );
    const otherService = join(ws.repo.root, 'vault.json');
    await writeFile(
      otherService,
      JSON.stringify({
        schema: 1, service: 'vault', version: '1.0.0', tag: 'vault/v1.0.0', commit: 'a'.repeat(40), image: `oci-layout:${ws.layoutDir}/vault`,
        digest: D('a'), tags: ['v1.0.0'], prerelease: false, deploy: true, createdAt: '2026-11-21T10:00:00Z',
      }),
    );
    const before = await snapshot(ws);

    const cases: [string[], string, RegExp][] = [
      [['--to', 'qa', '--version', '1.0.0'], 'E_UNKNOWN_ENVIRONMENT', /unknown environment "qa" \(known: staging, canary, production\)/],
      [['--to', 'staging', '--digest', 'sha256:abc'], 'E_DIGEST_INVALID', /digest "sha256:abc" is not a digest/],
      [['--to', 'staging', '--digest', D('A')], 'E_DIGEST_INVALID', /is not a digest/],
      [['--to', 'staging', '--manifest', join(ws.repo.root, 'missing.json')], 'E_MANIFEST_INVALID', /missing\.json: cannot read the release manifest \(ENOENT\)/],
      [['--to', 'staging', '--manifest', noDigest], 'E_MANIFEST_INVALID', /digest/],
      [['--to', 'staging', '--manifest', otherService], 'E_USAGE', /for service "vault", not "api"/],
      [['--to', 'staging', '--version', '9.9.9'], 'E_NOT_PUBLISHED', /api\/v9\.9\.9 was never published/],
      [['--to', 'staging', '--version', 'latest'], 'E_FLOATING_TAG', /floating tag/],
      [['--to', 'staging', '--version', '1.0'], 'E_TAG_INVALID', /./],
      [['--to', 'staging'], 'E_USAGE', /exactly one of --version/],
      [['--version', '1.0.0'], 'E_USAGE', /--to <environment> is required/],
    ];
    for (const [flags, code, message] of cases) {
      const r = await ws.run(['promote', 'api', ...flags, '--json']);
      expect(r.exitCode, `${flags.join(' ')}: ${r.stdout}`).toBe(2);
      const { error } = json<{ error: { code: string; message: string } }>(r);
      expect(error.code, flags.join(' ')).toBe(code);
      expect(error.message).toMatch(message);
    }
    const npm = await ws.run(['promote', 'cli', '--to', 'staging', '--digest', D('a')]);
    expect(npm.exitCode).toBe(2);
    expect(npm.stderr).toMatch(/published with npm/);
    expect((await ws.run(['promote', 'api', '--to', 'staging', '--version', '1.0.0', '--digest', D('a')])).exitCode).toBe(2);

    expect(await snapshot(ws)).toEqual(before);
  });

  it('--dry-run evaluates the gates and writes nothing', async () => {
    const ws = await pinsWorkspace();
    await ws.publish('api', 'v1.0.0');
    const before = await snapshot(ws);

    const planned = await ws.run(['promote', 'api', '--to', 'staging', '--version', '1.0.0', '--dry-run', '--json']);
    expect(planned.exitCode, planned.stderr).toBe(0);
    expect(json(planned)).toMatchObject({ status: 'planned', dryRun: true, commit: null, pushed: false, path: 'deploy/staging/api.yaml' });
    const refused = await ws.run(['promote', 'api', '--to', 'canary', '--version', '1.0.0', '--dry-run']);
    expect(refused.exitCode).toBe(3);
    const human = await ws.run(['promote', 'api', '--to', 'staging', '--version', '1.0.0', '--dry-run']);
    expect(human.stdout).toMatch(/^dry run: would have promoted api 1\.0\.0 .* nothing was written/);

    expect(await snapshot(ws)).toEqual(before);
  });

  it('an unreachable registry for --version is operational (exit 1), before anything is written', async () => {
    const ws = await pinsWorkspace({ services: { api: { root: 'apps/api', image: '127.0.0.1:9/acme/api' } } });
    const r = await ws.run(['promote', 'api', '--to', 'staging', '--version', '1.0.0']);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(await ws.originLog()).toEqual(['chore: initial commit']);
  });

  it('refuses checkpoint manifests and staging builds beyond the first environment (exit 3)', async () => {
    const ws = await pinsWorkspace({ scheme: 'staging-line', services: { api: { root: 'apps/api' } } });
    await ws.publish('api', '0.1.2-staging.3');
    expect((await ws.run(['promote', 'api', '--to', 'staging', '--version', '0.1.2-staging.3'])).exitCode).toBe(0);
    const beyond = await ws.run(['promote', 'api', '--to', 'canary', '--version', '0.1.2-staging.3']);
    expect(beyond.exitCode).toBe(3);
    expect(beyond.stderr).toMatch(/staging build/);

    const checkpoint = join(ws.repo.root, 'checkpoint.json');
    await writeFile(
      checkpoint,
      JSON.stringify({
        schema: 1, service: 'api', version: '0.1.2', tag: 'vnext', commit: 'a'.repeat(40), image: `oci-layout:${ws.layoutDir}/api`,
        digest: D('c'), tags: ['vnext'], prerelease: false, deploy: false, createdAt: '2026-11-21T10:00:00Z',
      }),
    );
    const refused = await ws.run(['promote', 'api', '--to', 'staging', '--manifest', checkpoint]);
    expect(refused.exitCode).toBe(3);
    expect(refused.stderr).toMatch(/checkpoints are never deployed/);
  });
});

describe('slipway promote: pins repositories and formats', () => {
  it('a separate pins repository (a bare path) is cloned into the cache; helm values keep every other line', async () => {
    const values = '# api values\nreplicas: 2 # keep\nimage:\n  repository: old/api\n  tag: v0.9.0\n  pullPolicy: IfNotPresent\n';
    const ws = await pinsWorkspace({ pins: 'remote', format: 'helm', path: 'charts/{service}/values-{environment}.yaml', pinsFiles: { 'charts/api/values-staging.yaml': values } });
    const d1 = await ws.publish('api', 'v1.0.0');

    const r = await ws.run(['promote', 'api', '--to', 'staging', '--version', '1.0.0', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await ws.originFile('charts/api/values-staging.yaml')).toBe(
      `# api values\nreplicas: 2 # keep\nimage:\n  repository: oci-layout:${ws.layoutDir}/api\n  tag: v1.0.0\n  digest: ${d1}\n  pullPolicy: IfNotPresent\n`,
    );
    // The workspace itself is untouched: the pins live elsewhere.
    expect(await ws.repo.git('log', '--format=%s')).toBe('chore: initial commit');

    // helm edits an existing file only: a missing one is bad input, and nothing is pushed.
    const missing = await ws.run(['promote', 'api', '--to', 'canary', '--version', '1.0.0']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/values-canary\.yaml/);
    expect(await ws.originLog()).toHaveLength(2);
  });

  it.each([
    ['a folder that is not a repository', '.', /is not a git repository/],
    ['a path that does not exist', 'no-such-dir', /no-such-dir does not exist/],
  ])('pins.repo naming %s is exit 2', async (_, repo, message) => {
    const dir = await mkdtemp(join(tmpdir(), 'slipway-norepo-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'services.json'), JSON.stringify({ environments: { staging: {} }, pins: { repo }, services: { api: { root: 'api' } } }));
    const r = await runCli(['promote', 'api', '--to', 'staging', '--digest', D('a'), '--json'], { cwd: dir, env: { PATH: process.env['PATH'], GIT_CEILING_DIRECTORIES: tmpdir() } });
    expect(r.exitCode).toBe(2);
    expect(json<{ error: { code: string; message: string } }>(r).error).toMatchObject({ code: 'E_PINS_REPO', message: expect.stringMatching(message) });
  });

  it('a detached HEAD in a "." pins checkout is exit 2 naming the fix; a checkout without origin commits locally', async () => {
    const ws = await pinsWorkspace();
    await ws.publish('api', 'v1.0.0');
    await ws.repo.git('checkout', '--quiet', '--detach');
    const detached = await ws.run(['promote', 'api', '--to', 'staging', '--version', '1.0.0']);
    expect(detached.exitCode).toBe(2);
    expect(detached.stderr).toMatch(/detached HEAD .* check out the branch/);
    expect((await ws.run(['status', 'api'])).exitCode).toBe(0); // reading needs no branch

    await ws.repo.git('checkout', '--quiet', 'main');
    await ws.repo.git('remote', 'remove', 'origin');
    const local = await ws.run(['promote', 'api', '--to', 'staging', '--version', '1.0.0', '--json']);
    expect(local.exitCode, local.stderr).toBe(0);
    expect(json(local)).toMatchObject({ status: 'promoted', pushed: false });
    expect(await ws.repo.git('log', '-1', '--format=%s')).toBe('promote api 1.0.0 to staging');
    expect(await readFile(join(ws.repo.dir, 'deploy/staging/api.yaml'), 'utf8')).toContain('version: 1.0.0');
  });
});
