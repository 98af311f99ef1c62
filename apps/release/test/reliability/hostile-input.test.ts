import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConfigError, parseConfig } from '@slipway/config';
import { DeployRefError, PinDocumentError, parsePin, readPinned } from '@slipway/pins';
import { classifyTag, TagError } from '@slipway/tag';
import { createTempRepo, startGitHubDouble } from '@slipway/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ManifestError, parseReleaseManifest } from '../../src/manifest.js';
import { GITHUB_TOKEN, REPOSITORY } from '../fixtures.js';
import { json, pinsWorkspace } from '../pins-fixtures.js';
import { runCli, type CliRun } from '../run-cli.js';

// Hostile input: whatever a tag, a services.json, a pin file or a release manifest says, slipway
// answers with a typed error (exit 2 for bad input) or a result — never a crash (E_INTERNAL, exit 1
// from an untyped error) and never a write.

const NUM_RUNS = Number(process.env['SLIPWAY_FUZZ_RUNS'] ?? 150);

/** The CLI's verdict: a result, or an error document with a stable E_ code and no crash. */
function verdict(run: CliRun): { exitCode: number; code?: string } {
  const doc = JSON.parse(run.stdout) as { error?: { code: string; message: string } };
  if (run.exitCode !== 0) {
    expect(doc.error?.code, run.stdout).toMatch(/^E_[A-Z0-9_]+$/);
    expect(doc.error?.code, run.stdout).not.toMatch(/^E_(INTERNAL|SYSTEM_)/);
    expect(doc.error?.message.length).toBeGreaterThan(0);
    return { exitCode: run.exitCode, code: doc.error?.code ?? '' };
  }
  return { exitCode: 0 };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error;
  }
}

// ---------------------------------------------------------------------------------------------
// Tags

const TAG_CORPUS = [
  '',
  ' ',
  '-',
  '--help',
  '--json',
  'api/v1.0.0/../../etc/passwd',
  'api/v01.0.0',
  'api/v1.0.0\n',
  'api/v1.0.0\u0000',
  'refs/tags/api/v1.0.0',
  'API/v1.0.0',
  'api/v1.0.0.lock',
  'api/v1.0.0@{1}',
  'api//v1.0.0',
  'api/v1.0.0-',
  'api/v1.0.0+build.1',
  'api/v99999999999999999999.0.0',
  'api/v1.0.0;rm -rf /',
  '$(touch /tmp/slipway-pwned)',
  '`id`',
  'api/v1.0.0\u202e',
  'аpi/v1.0.0', // Cyrillic а
  'api/v1.0.0-rc.01',
  'api/v-1.0.0',
  'unknown/v1.0.0',
  'v1.0.0',
  'sha-zzzzzzz',
  '1.2.3-staging.',
  'a'.repeat(300),
  `api/v1.0.0-${'x'.repeat(100_000)}`,
];

const VALID_TAGS = ['api/v1.2.3', 'vault/v0.0.1-rc.1', 'api/v10.20.30', 'sha-abcdef0', 'v1.4.0', '1.2.3-staging.4'];
const TAG_UNITS = fc.constantFrom(...'abcpiv0123456789./-_+@{}~^:?*[]\\ \t\n'.split(''), 'é', '\u0000', '\u202e', '🙂', 'ı');

const hostileTag = fc.oneof(
  fc.string({ unit: TAG_UNITS, maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  // A valid tag with a few characters spliced in, removed or replaced.
  fc
    .tuple(fc.constantFrom(...VALID_TAGS), fc.nat(), fc.nat(3), fc.string({ unit: TAG_UNITS, maxLength: 3 }))
    .map(([tag, at, remove, insert]) => {
      const i = at % (tag.length + 1);
      return tag.slice(0, i) + insert + tag.slice(i + remove);
    }),
);

const PER_SERVICE = { scheme: 'per-service' as const, services: { api: {}, vault: {} } };

describe('hostile tags', () => {
  it('tag inspect: a classification (exit 0) or bad input (exit 2), agreeing with the library, never a crash', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slipway-tags-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'services.json'), JSON.stringify({ services: { api: { root: 'apps/api' }, vault: { root: 'apps/vault' } } }));
    const check = async (tag: string) => {
      // After `--`, as a CI script passing "$GITHUB_REF_NAME" should: a tag is never read as a flag.
      const run = await runCli(['tag', 'inspect', '--json', '--', tag], { cwd: dir });
      const { exitCode } = verdict(run);
      const error = thrown(() => classifyTag(tag, PER_SERVICE));
      expect(exitCode, JSON.stringify(tag)).toBe(error === undefined ? 0 : 2);
      if (error !== undefined) expect(error).toBeInstanceOf(TagError);
    };
    for (const tag of TAG_CORPUS) await check(tag);
    await fc.assert(fc.asyncProperty(hostileTag, check), { numRuns: NUM_RUNS });
  });

  it('publish refuses every invalid tag with exit 2 before touching git, the registry or GitHub', async () => {
    const registryRequests: string[] = [];
    const registry = createServer((req, res) => {
      registryRequests.push(`${req.method ?? ''} ${req.url ?? ''}`);
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => registry.close(() => resolve())));
    const host = `127.0.0.1:${(registry.address() as AddressInfo).port}`;
    const github = await startGitHubDouble({ tokens: [GITHUB_TOKEN] });
    onTestFinished(() => github.close());
    const services = { repository: REPOSITORY, registry: `${host}/acme`, insecureRegistries: [host], services: { api: { root: 'apps/api' }, vault: { root: 'apps/vault' } } };
    const repo = await createTempRepo({ files: { 'services.json': JSON.stringify(services) } });
    onTestFinished(repo.cleanup);
    github.repo(REPOSITORY, { origin: repo.dir });
    const env = { PATH: process.env['PATH'], NO_COLOR: '1', GITHUB_TOKEN, GITHUB_API_URL: github.url, HOME: repo.root, ...repo.env };
    const manifest = join(repo.root, 'manifest.json');
    const before = await repo.git('-C', repo.origin, 'for-each-ref');

    const check = async (tag: string) => {
      if (thrown(() => classifyTag(tag, PER_SERVICE)) === undefined) return; // a valid tag is not hostile
      const run = await runCli(['publish', '--manifest', manifest, '--json', '--', tag], { cwd: repo.dir, env });
      expect(verdict(run).exitCode, JSON.stringify(tag)).toBe(2);
    };
    for (const tag of TAG_CORPUS) await check(tag);
    await fc.assert(fc.asyncProperty(hostileTag, check), { numRuns: NUM_RUNS });

    expect(registryRequests).toEqual([]);
    expect(github.state.requests).toEqual([]);
    expect(await repo.git('-C', repo.origin, 'for-each-ref')).toBe(before);
    await expect(access(manifest)).rejects.toThrow();
  });
});

// ---------------------------------------------------------------------------------------------
// services.json

const VALID_CONFIG = {
  repository: 'acme/platform',
  mainBranch: 'main',
  scheme: 'per-service',
  registry: 'ghcr.io/acme',
  insecureRegistries: ['127.0.0.1:5000'],
  environments: { staging: {}, canary: { after: 'staging' }, production: { after: 'canary', approvals: 1, approvers: ['release-manager'] } },
  pins: { repo: '.', path: 'deploy/{environment}/{service}.yaml', format: 'pin' },
  dispatch: { eventType: 'deploy' },
  services: {
    api: { project: 'api', root: 'apps/api', imageTags: ['X.Y.Z', 'latest'], build: { type: 'layer', from: 'scratch', dir: 'apps/api', entrypoint: ['node'] } },
    vault: { project: 'vault', root: 'apps/vault', image: 'ghcr.io/acme/vault-server', build: { type: 'prebuilt', from: '{image}:sha-{sha7}' } },
    web: { root: 'apps/web', build: { type: 'docker', context: 'apps/web' } },
    cli: { project: 'cli', root: 'apps/cli', kind: 'npm' },
  },
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path to a value in `value`, the root included. */
function pathsOf(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const here = [prefix];
  if (Array.isArray(value)) return [...here, ...value.flatMap((v, i) => pathsOf(v, [...prefix, i]))];
  if (value !== null && typeof value === 'object') return [...here, ...Object.entries(value).flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
  return here;
}

type Mutation = { at: number; op: 'delete' | 'set' | 'rename'; value: Json; key: string };

function mutate(root: Json, mutations: readonly Mutation[]): Json {
  let doc = structuredClone(root);
  for (const m of mutations) {
    const paths = pathsOf(doc);
    const path = paths[m.at % paths.length] ?? [];
    if (path.length === 0) {
      if (m.op === 'set') doc = m.value;
      continue;
    }
    let parent: Json = doc;
    for (const step of path.slice(0, -1)) parent = (parent as Record<string, Json>)[step as string] as Json;
    const last = path[path.length - 1] as string | number;
    const container = parent as Record<string | number, Json>;
    if (m.op === 'delete') {
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete container[last];
    } else if (m.op === 'set') {
      container[last] = m.value;
    } else if (!Array.isArray(parent)) {
      const moved = container[last] as Json;
      delete container[last];
      container[m.key] = moved;
    }
  }
  return doc;
}

const jsonValue = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>;
const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('delete', 'set', 'set', 'rename'),
  value: fc.oneof(jsonValue, fc.constantFrom<Json>('', '../..', 'staging-line', 'single', -1, 1e308, 'oci-layout:/', '{image}:latest', 'X.Y', '__proto__')),
  key: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'API', 'a'.repeat(64))),
});
const mutatedConfig = fc.array(mutation, { minLength: 1, maxLength: 4 }).map((ms) => mutate(VALID_CONFIG as unknown as Json, ms));
/** Raw text damage: cut, splice, or a prototype-polluting key. */
const damagedText = fc.oneof(
  fc.tuple(fc.nat(), fc.string({ maxLength: 5 })).map(([at, insert]) => {
    const text = JSON.stringify(VALID_CONFIG, null, 2);
    const i = at % text.length;
    return text.slice(0, i) + insert + text.slice(i + 1);
  }),
  fc.nat().map((at) => JSON.stringify(VALID_CONFIG).slice(0, at % 400)),
  fc.constantFrom('{"__proto__": {"scheme": "single"}, "services": {}}', '[]', 'null', '"services"', '{"services": {"__proto__": {}}}', '\ufeff{}', '{"services":{"api":{}}}'.repeat(2)),
);

describe('hostile services.json', () => {
  it('parseConfig returns a config or throws ConfigError naming what is wrong', () => {
    fc.assert(
      fc.property(fc.oneof(mutatedConfig.map((c) => JSON.stringify(c)), damagedText), (text) => {
        const error = thrown(() => parseConfig(text));
        if (error === undefined) return;
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).exitCode).toBe(2);
        expect((error as ConfigError).message).toMatch(/^services\.json: /);
      }),
      { numRuns: NUM_RUNS * 4 },
    );
  });

  it('through the CLI: exit 0 or 2, never a crash', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slipway-config-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutatedConfig.map((c) => JSON.stringify(c)), damagedText), async (text) => {
        await writeFile(join(dir, 'services.json'), text);
        for (const argv of [
          ['tag', 'inspect', 'api/v1.0.0', '--json'],
          ['image', 'resolve', 'oci-layout:images/api:v1', '--json'],
        ]) {
          const { exitCode } = verdict(await runCli(argv, { cwd: dir }));
          // image resolve on an empty layout is "not found" (exit 1), which is not a crash.
          expect([0, 1, 2]).toContain(exitCode);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('hostile services.json: depth and prototype names', () => {
  it('a services.json nested 10,000 deep is bad input (exit 2), not a stack overflow', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slipway-config-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const deep = (open: string, inner: string, close: string) => `{"services":{"api":{"root":"api"}},"x":${open.repeat(10_000)}${inner}${close.repeat(10_000)}}`;
    for (const text of [deep('[', '', ']'), deep('{"a":', '1', '}'), `{"services":{"api":${'{"root":'.repeat(10_000)}"x"${'}'.repeat(10_000)}}}`]) {
      expect(thrown(() => parseConfig(text))).toMatchObject({ name: 'ConfigError', exitCode: 2, message: expect.stringMatching(/nested (deeper than|too deeply)/) });
      await writeFile(join(dir, 'services.json'), text);
      const run = await runCli(['tag', 'inspect', 'api/v1.0.0', '--json'], { cwd: dir });
      expect(run.exitCode, run.stdout).toBe(2);
      expect(verdict(run).code).toBe('E_CONFIG_INVALID');
    }
  });

  it('names like constructor, __proto__ and toString never resolve through the object prototype', async () => {
    const ws = await pinsWorkspace();
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      for (const argv of [
        ['tag', 'inspect', `${name}/v1.0.0`],
        ['plan', name],
        ['check', name],
        ['release', name, '--version', '1.0.0', '--dry-run'],
        ['status', name],
        ['history', name],
        ['promote', 'api', '--to', name, '--digest', D, '--dry-run'],
        ['promote', name, '--to', 'staging', '--digest', D, '--dry-run'],
        ['rollback', 'api', '--env', name, '--dry-run'],
      ]) {
        const run = await ws.run([...argv, '--json']);
        const { exitCode, code } = verdict(run);
        expect(exitCode, `${argv.join(' ')}: ${run.stdout}`).toBe(2);
        // Unknown, by name: not some later failure of a service or environment made up from Object's members.
        expect(['E_UNKNOWN_SERVICE', 'E_UNKNOWN_ENVIRONMENT', 'E_TAG_INVALID'], `${argv.join(' ')}: ${run.stdout}`).toContain(code);
      }
    }
    expect(await ws.originLog()).not.toContainEqual(expect.stringMatching(/promote/));
  });

  it('a service and an environment named constructor are ordinary names', () => {
    const config = parseConfig(
      JSON.stringify({ environments: { constructor: {}, prod: { after: 'constructor' } }, services: { constructor: { root: 'a' } } }),
    );
    expect(Object.keys(config.services)).toEqual(['constructor']);
    expect(thrown(() => parseConfig(JSON.stringify({ environments: { prod: { after: 'constructor' } }, services: { api: { root: 'a' } } })))).toMatchObject({
      message: expect.stringContaining('unknown environment "constructor"'),
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Pin files and release manifests

const D = `sha256:${'a'.repeat(64)}`;
const VALID_PIN = [
  'service: api',
  'environment: production',
  'image: ghcr.io/acme/api',
  'version: 1.2.3',
  `digest: ${D}`,
  'tag: api/v1.2.3',
  'promotedAt: 2026-11-21T10:00:00Z',
  'promotedBy: alice',
  'from: canary',
  '',
].join('\n');

const YAML_CORPUS = [
  '',
  '~',
  '---\n---\n',
  '- a\n- b\n',
  'service: [api]\n',
  'service: &a api\nenvironment: *a\n',
  // Billion laughs: aliases that expand exponentially if anything resolves them.
  `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\nimage: *f\n`,
  `${'['.repeat(5000)}${']'.repeat(5000)}`,
  `${'a:\n  '.repeat(2000)}b\n`,
  '!!js/function "function(){}"\n',
  'image: !!binary aGVsbG8=\n',
  '<<: {service: api}\n',
  `${VALID_PIN}digest: ${D}\n`, // duplicate key
  VALID_PIN.replace(D, 'sha256:short'),
  VALID_PIN.replace(D, `${D}\nextra: 1`),
  VALID_PIN.replace('alice', '"alice\\nSlipway-Service: vault"'),
  VALID_PIN.replace('1.2.3', 'latest'),
  'image:\n  repository: ghcr.io/acme/api\n  tag: latest\n  digest: sha256:zz\n',
  'images:\n- name: ghcr.io/acme/api\n  digest: 12\n- 7\n',
  'images: 3\n',
  '\u0000\u0001\u0002',
  'x'.repeat(1_000_000),
];

const pinLines = VALID_PIN.trimEnd().split('\n');
const mutatedPin = fc
  .tuple(fc.nat(pinLines.length - 1), fc.constantFrom('delete', 'replace', 'duplicate', 'indent'), fc.string({ maxLength: 12 }))
  .map(([line, op, text]) => {
    const lines = [...pinLines];
    const key = (lines[line] ?? '').split(':')[0] ?? '';
    if (op === 'delete') lines.splice(line, 1);
    if (op === 'replace') lines[line] = `${key}: ${text}`;
    if (op === 'duplicate') lines.splice(line, 0, lines[line] ?? '');
    if (op === 'indent') lines[line] = `  ${lines[line] ?? ''}`;
    return `${lines.join('\n')}\n`;
  });
const yamlText = fc.oneof(
  mutatedPin,
  fc.constantFrom(...YAML_CORPUS),
  fc.string({ maxLength: 60 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.dictionary(fc.constantFrom('service', 'environment', 'image', 'digest', 'version', 'images', 'image.tag', 'x'), fc.jsonValue({ maxDepth: 2 })).map((v) => JSON.stringify(v)),
);

/** Typed bad input from @slipway/pins, never anything else. */
function expectPinError(error: unknown): void {
  if (error === undefined) return;
  expect(error instanceof PinDocumentError || error instanceof DeployRefError, String(error)).toBe(true);
  expect((error as { exitCode: number }).exitCode).toBe(2);
}

const VALID_MANIFEST = {
  schema: 1,
  service: 'api',
  version: '1.2.3',
  tag: 'api/v1.2.3',
  commit: 'c'.repeat(40),
  image: 'ghcr.io/acme/api',
  digest: D,
  tags: ['v1.2.3'],
  prerelease: false,
  deploy: true,
  createdAt: '2026-11-21T10:00:00Z',
};
const manifestText = fc.oneof(
  fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => JSON.stringify(mutate(VALID_MANIFEST as unknown as Json, ms))),
  fc.nat().map((at) => JSON.stringify(VALID_MANIFEST).slice(0, at % 250)),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('[]', 'null', `[${JSON.stringify(VALID_MANIFEST)}]`, JSON.stringify({ ...VALID_MANIFEST, __proto__: { deploy: false } }), JSON.stringify({ ...VALID_MANIFEST, digest: `${D}\n` })),
);

describe('hostile pin files and release manifests', () => {
  it('parsePin and readPinned (pin, helm, kustomize) answer a pin or a typed error', () => {
    for (const text of YAML_CORPUS) {
      expectPinError(thrown(() => parsePin(text)));
      for (const format of ['pin', 'helm', 'kustomize'] as const) expectPinError(thrown(() => readPinned(format, text, 'ghcr.io/acme/api')));
    }
    fc.assert(
      fc.property(yamlText, (text) => {
        expectPinError(thrown(() => parsePin(text)));
        for (const format of ['pin', 'helm', 'kustomize'] as const) expectPinError(thrown(() => readPinned(format, text, 'ghcr.io/acme/api')));
      }),
      { numRuns: NUM_RUNS * 4 },
    );
  });

  it('parseReleaseManifest answers a manifest or ManifestError', () => {
    fc.assert(
      fc.property(manifestText, (text) => {
        const error = thrown(() => parseReleaseManifest(text, 'manifest.json'));
        if (error === undefined) return;
        expect(error).toBeInstanceOf(ManifestError);
        expect((error as ManifestError).exitCode).toBe(2);
      }),
      { numRuns: NUM_RUNS * 4 },
    );
  });

  it('promote --manifest with a hostile manifest, and status over hostile pin files: exit 2 at worst, nothing committed', async () => {
    const ws = await pinsWorkspace({ pins: 'remote' });
    const before = await ws.originLog();
    const file = join(ws.repo.root, 'hostile-manifest.json');
    await fc.assert(
      fc.asyncProperty(manifestText, async (text) => {
        await writeFile(file, text);
        const run = await ws.run(['promote', 'api', '--to', 'staging', '--manifest', file, '--json']);
        const { exitCode } = verdict(run);
        // A manifest that parses may still be refused (another image, a checkpoint); only a valid one for api may pass.
        if (exitCode === 0) expect(thrown(() => parseReleaseManifest(text, file))).toBeUndefined();
        else expect([2, 3]).toContain(exitCode);
      }),
      { numRuns: 25 },
    );
    // Only the valid manifests (none of the hostile ones) can have landed.
    const landed = (await ws.originLog()).filter((s) => !before.includes(s));
    for (const subject of landed) expect(subject).toMatch(/^promote api /);

    // The pins repository's file for api in staging replaced by hostile text, one after another:
    // status reads it as a typed error (exit 2) or as nothing pinned, never crashes.
    for (const text of YAML_CORPUS) {
      await ws.pinsRepo.commit('chore: hostile pin', { 'deploy/staging/api.yaml': text });
      await ws.pinsRepo.push('HEAD:main');
      const status = await ws.run(['status', 'api', '--json']);
      expect([0, 2], status.stdout).toContain(verdict(status).exitCode);
      if (status.exitCode === 2) expect(json<{ error: { message: string } }>(status).error.message).toContain('deploy/staging/api.yaml');
    }
  });
});
