import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { inspect } from 'node:util';
import { startRegistry, TEST_REGISTRY_PASSWORD, TEST_REGISTRY_USER } from '@slipway/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { handlers } from '../../src/commands/index.js';
import type { CommandContext } from '../../src/context.js';
import { createOutput } from '../../src/output.js';
import { GITHUB_TOKEN, layer, REPOSITORY, releaseWorkspace } from '../fixtures.js';
import { runCli } from '../run-cli.js';

// Known secrets, each distinctive, set where slipway reads credentials from: the environment
// (GITHUB_TOKEN, GHCR_TOKEN, NPM_TOKEN), a docker config's auths, and a credential helper on PATH.
// Every output of every run below is collected and searched for each of them.
const WRONG_GITHUB_TOKEN = 'ghp_WrongTokenQz8vX1y2Z3a4B5c6D7e8F9g0HiJk';
const GHCR_TOKEN = 'ghcr-secret-Kp3Lr7Wm2Qx9';
const NPM_TOKEN = 'npm_SecretTokenRt5Yu8Io1Pa4Sd7Fg0Hj3';
const WRONG_DOCKER_PASSWORD = 'docker-wrong-password-Zx4Cv7Bn';
const HELPER_SECRET = 'helper-secret-Mn6Bv9Cx2Za5';

const SECRETS = [GITHUB_TOKEN, WRONG_GITHUB_TOKEN, GHCR_TOKEN, NPM_TOKEN, TEST_REGISTRY_PASSWORD, WRONG_DOCKER_PASSWORD, HELPER_SECRET];
/** What a secret looks like once encoded for a header or a URL. */
const FORMS = [
  ...SECRETS,
  ...SECRETS.map((s) => encodeURIComponent(s)),
  ...[TEST_REGISTRY_PASSWORD, WRONG_DOCKER_PASSWORD, HELPER_SECRET].flatMap((p) => [
    Buffer.from(`${TEST_REGISTRY_USER}:${p}`).toString('base64'),
    Buffer.from(`helper:${p}`).toString('base64'),
  ]),
  ...[GITHUB_TOKEN, WRONG_GITHUB_TOKEN, GHCR_TOKEN].map((t) => Buffer.from(`slipway:${t}`).toString('base64')),
];

const outputs: { what: string; text: string }[] = [];
const collect = (what: string, text: string) => void outputs.push({ what, text });

function expectNoSecrets(): void {
  expect(outputs.length).toBeGreaterThan(0);
  for (const { what, text } of outputs) {
    for (const secret of FORMS) expect(text.includes(secret), `${what} contains a secret (${secret.slice(0, 4)}…):\n${text}`).toBe(false);
    // The registry's bearer tokens are JWTs (base64 JSON: "eyJ…"): never shown either.
    expect(/eyJ[A-Za-z0-9_-]{10,}/.test(text), `${what} contains a JWT:\n${text}`).toBe(false);
  }
}

async function run(what: string, argv: string[], cwd: string, env: NodeJS.ProcessEnv, expected: number): Promise<void> {
  for (const json of [true, false]) {
    const result = await runCli(json ? [...argv, '--json'] : argv, { cwd, env });
    collect(`${what}${json ? ' --json' : ''} stdout`, result.stdout);
    collect(`${what}${json ? ' --json' : ''} stderr`, result.stderr);
    expect(result.exitCode, `${what}: ${result.stdout}${result.stderr}`).toBe(expected);
  }
}

/** The error a command's handler throws, as a debugger or a crash report would print it. */
async function thrownBy(what: string, name: string, args: Record<string, string>, cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  const stderr = new PassThrough();
  const chunks: Buffer[] = [];
  stderr.on('data', (c: Buffer) => chunks.push(c));
  const ctx: CommandContext = { cwd, processCwd: cwd, dryRun: false, env, out: createOutput({ json: true, stdout: new PassThrough(), stderr, env }) };
  const handler = handlers[name];
  if (!handler) throw new Error(`no handler ${name}`);
  const error = await handler({ args, options: {} }, ctx).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `${what} should fail`).toBeInstanceOf(Error);
  collect(`${what}: thrown error`, inspect(error, { depth: Infinity, showHidden: true }));
  collect(`${what}: thrown error JSON`, JSON.stringify(error, Object.getOwnPropertyNames(error)));
  collect(`${what}: progress`, Buffer.concat(chunks).toString());
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('secrets never appear in output, --json, error messages, logs or thrown errors', () => {
  it('publish (success and failures), image resolve with bad credentials, a GitHub 401, an npm 401, a token in the origin URL', async () => {
    outputs.length = 0;
    const registry = await startRegistry({ auth: 'token' });
    onTestFinished(() => registry.stop());
    const ws = await releaseWorkspace();
    const npm = createServer((req, res) => {
      req.resume();
      res.writeHead(401, { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Bearer' }).end('{"error":"unauthorized"}');
    });
    await new Promise<void>((resolve) => npm.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => npm.close(() => resolve())));
    const npmUrl = `http://127.0.0.1:${(npm.address() as AddressInfo).port}/`;

    const services = {
      repository: REPOSITORY,
      registry: `${registry.host}/acme`,
      insecureRegistries: [registry.host],
      dispatch: { eventType: 'deploy' },
      services: {
        api: { root: 'apps/api', build: layer('apps/api') },
        cli: { root: 'packages/cli', kind: 'npm' },
      },
    };
    await ws.repo.commit('chore: token registry', {
      'services.json': JSON.stringify(services),
      'packages/cli/package.json': JSON.stringify({ name: '@acme/cli', version: '0.0.0-development' }),
      'packages/cli/index.js': 'export {};\n',
    });
    await ws.repo.push('main');
    await ws.tagRelease('api/v1.0.0');
    await ws.tagRelease('cli/v1.0.0');

    // Credentials: a docker config with the right password for the registry, and one with a wrong one;
    // a credential helper on PATH for the helper case.
    const home = ws.repo.root;
    const dockerRight = join(home, 'docker-right');
    const dockerWrong = join(home, 'docker-wrong');
    const dockerHelper = join(home, 'docker-helper');
    const bin = join(home, 'bin');
    for (const dir of [dockerRight, dockerWrong, dockerHelper, bin]) await mkdir(dir, { recursive: true });
    const auth = (password: string) => ({ auths: { [registry.host]: { auth: Buffer.from(`${TEST_REGISTRY_USER}:${password}`).toString('base64') } } });
    await writeFile(join(dockerRight, 'config.json'), JSON.stringify(auth(TEST_REGISTRY_PASSWORD)));
    await writeFile(join(dockerWrong, 'config.json'), JSON.stringify(auth(WRONG_DOCKER_PASSWORD)));
    await writeFile(join(dockerHelper, 'config.json'), JSON.stringify({ credHelpers: { [registry.host]: 'slipwaytest' } }));
    const helper = join(bin, 'docker-credential-slipwaytest');
    await writeFile(helper, `#!/bin/sh\nread server\nprintf '{"ServerURL":"%s","Username":"helper","Secret":"${HELPER_SECRET}"}' "$server"\n`);
    await chmod(helper, 0o755);

    const githubOutput = join(home, 'github-output');
    const summary = join(home, 'step-summary');
    const manifest = join(home, 'manifest.json');
    const env = {
      ...ws.env,
      PATH: `${bin}:${process.env['PATH'] ?? ''}`,
      GHCR_TOKEN,
      NPM_TOKEN,
      NPM_CONFIG_REGISTRY: npmUrl,
      DOCKER_CONFIG: dockerRight,
      GITHUB_OUTPUT: githubOutput,
      GITHUB_STEP_SUMMARY: summary,
    };
    const cwd = ws.repo.dir;

    // Success, then the no-op re-run.
    await run('publish (success)', ['publish', 'api/v1.0.0', '--manifest', manifest], cwd, env, 0);
    // Wrong registry password (docker config), wrong secret from the helper.
    await run('publish (registry refuses the docker config password)', ['publish', 'api/v1.0.0'], cwd, { ...env, DOCKER_CONFIG: dockerWrong }, 1);
    await thrownBy('publish (registry refuses the docker config password)', 'publish', { tag: 'api/v1.0.0' }, cwd, { ...env, DOCKER_CONFIG: dockerWrong });
    await run('image resolve (credential helper secret refused)', ['image', 'resolve', `${registry.host}/acme/api:v1.0.0`], cwd, { ...env, DOCKER_CONFIG: dockerHelper }, 1);
    await thrownBy('image resolve (credential helper secret refused)', 'image resolve', { ref: `${registry.host}/acme/api:v1.0.0` }, cwd, { ...env, DOCKER_CONFIG: dockerHelper });
    await run('image resolve (success)', ['image', 'resolve', `${registry.host}/acme/api:v1.0.0`], cwd, env, 0);
    // GitHub answers 401 to a wrong token.
    await run('publish (GitHub 401)', ['publish', 'api/v1.0.0'], cwd, { ...env, GITHUB_TOKEN: WRONG_GITHUB_TOKEN }, 1);
    await thrownBy('publish (GitHub 401)', 'publish', { tag: 'api/v1.0.0' }, cwd, { ...env, GITHUB_TOKEN: WRONG_GITHUB_TOKEN });
    // The npm registry refuses NPM_TOKEN.
    await run('publish npm (401)', ['publish', 'cli/v1.0.0'], cwd, env, 1);
    await thrownBy('publish npm (401)', 'publish', { tag: 'cli/v1.0.0' }, cwd, env);
    // A CI checkout whose origin URL carries the token, and the remote is unreachable.
    const originUrl = await ws.repo.git('remote', 'get-url', 'origin');
    await ws.repo.git('remote', 'set-url', 'origin', `http://x-access-token:${GITHUB_TOKEN}@127.0.0.1:9/acme/platform.git`);
    await run('publish (origin URL with a token, unreachable)', ['publish', 'api/v1.0.0'], cwd, env, 1);
    await thrownBy('publish (origin URL with a token, unreachable)', 'publish', { tag: 'api/v1.0.0' }, cwd, env);
    await ws.repo.git('remote', 'set-url', 'origin', originUrl);

    // Files slipway wrote for the CI runner, the GitHub release it created, and npm's own logs.
    for (const file of [githubOutput, summary, manifest]) collect(file, await readFile(file, 'utf8'));
    expect(outputs.find((o) => o.what === githubOutput)?.text).toContain('digest=sha256:');
    for (const release of ws.github.repo(REPOSITORY).releases) collect(`release ${release.tag_name}`, JSON.stringify(release));
    for (const dispatch of ws.github.repo(REPOSITORY).dispatches) collect('dispatch', JSON.stringify(dispatch));
    for (const file of await filesUnder(join(home, '.npm', '_logs'))) collect(file, await readFile(file, 'utf8'));

    // The runs did use the secrets: GitHub got the right token, the registry token exchange ran.
    expect(ws.github.state.requests.some((r) => r.status === 401)).toBe(true);
    expect(ws.github.repo(REPOSITORY).releases).toHaveLength(1);
    expect(outputs.some((o) => /unauthorized|refused|401/i.test(o.text))).toBe(true);
    expectNoSecrets();
  });
});
