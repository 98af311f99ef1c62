import { describe, expect, it } from 'vitest';
import { ConfigError, durationMs, environmentOrder, getService, parseConfig, pinPath } from './index.js';

const minimal = { services: { api: {} } };
const text = (value: unknown) => JSON.stringify(value, null, 2);

function problemsOf(value: unknown): string[] {
  try {
    parseConfig(typeof value === 'string' ? value : text(value));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(2);
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('applies the defaults of CONTRACT §1', () => {
    const config = parseConfig(text(minimal));
    expect(config).toMatchObject({
      mainBranch: 'main',
      scheme: 'per-service',
      registry: 'oci-layout:.slipway/images',
      insecureRegistries: [],
      environments: {},
      pins: { repo: '.', path: 'deploy/{environment}/{service}.yaml', format: 'pin' },
    });
    expect(getService(config, 'api')).toMatchObject({ name: 'api', project: 'api', kind: 'image', image: 'oci-layout:.slipway/images/api' });
  });

  it('accepts the example of CONTRACT §1', () => {
    const config = parseConfig(
      text({
        $schema: './node_modules/@slipway/config/services.schema.json',
        repository: 'acme/platform',
        mainBranch: 'main',
        scheme: 'per-service',
        registry: 'ghcr.io/acme',
        insecureRegistries: [],
        environments: {
          staging: {},
          canary: { after: 'staging' },
          production: { after: 'canary', approvals: 1, approvers: ['release-manager'] },
        },
        pins: { repo: '.', path: 'deploy/{environment}/{service}.yaml', format: 'pin' },
        services: {
          api: { project: 'api', build: { type: 'docker', context: 'apps/api' } },
          vault: { project: 'vault', image: 'ghcr.io/acme/vault-server' },
          cli: { project: 'cli', kind: 'npm' },
        },
      }),
    );
    expect(getService(config, 'api').image).toBe('ghcr.io/acme/api');
    expect(getService(config, 'vault').image).toBe('ghcr.io/acme/vault-server');
    expect(getService(config, 'cli').kind).toBe('npm');
    expect(environmentOrder(config)).toEqual(['staging', 'canary', 'production']);
    expect(pinPath(config, 'api', 'canary')).toBe('deploy/canary/api.yaml');
  });

  it('orders environments by their after chain, not by key order', () => {
    const config = parseConfig(
      text({ ...minimal, environments: { production: { after: 'canary' }, canary: { after: 'staging' }, staging: {} } }),
    );
    expect(environmentOrder(config)).toEqual(['staging', 'canary', 'production']);
  });

  it.each([
    ['bad JSON', '{ "services": { "api": {} }, }', /services\.json: not valid JSON at line 1, column \d+/],
    ['an unknown top-level key', { ...minimal, registy: 'ghcr.io/acme' }, /^registy: unknown key/],
    ['an unknown service key', { services: { api: { projct: 'api' } } }, /^services\.api\.projct: unknown key/],
    ['an uppercase service name', { services: { API: {} } }, /^services\.API: service names are lowercase .*\(got "API"\)/],
    ['a service name with a slash', { services: { 'a/b': {} } }, /^services\["a\/b"\]: service names are lowercase/],
    ['an unknown after', { ...minimal, environments: { prod: { after: 'stagin' } } }, /^environments\.prod\.after: unknown environment "stagin"/],
    ['a layer build without dir', { services: { api: { build: { type: 'layer', from: 'scratch' } } } }, /^services\.api\.build\.dir: required/],
    ['a docker build without context', { services: { api: { build: { type: 'docker' } } } }, /^services\.api\.build\.context: required/],
    ['an unknown build engine', { services: { api: { build: { type: 'docker', context: 'api', engine: 'kaniko' } } } }, /^services\.api\.build\.engine: .*"docker".*"podman".*"buildah".*\(got "kaniko"\)/],
    ['a build timeout without unit', { services: { api: { build: { type: 'docker', context: 'api', timeout: '90' } } } }, /^services\.api\.build\.timeout: a duration such as "90s", "45m" or "1h30m"/],
    ['a build timeout of zero', { services: { api: { build: { type: 'docker', context: 'api', timeout: '0m' } } } }, /^services\.api\.build\.timeout: must be longer than 0s/],
    ['an engine on a layer build', { services: { api: { build: { type: 'layer', from: 'scratch', dir: 'x', engine: 'buildah' } } } }, /^services\.api\.build\.engine: unknown key/],
    ['an unknown build type', { services: { api: { build: { type: 'nix' } } } }, /^services\.api\.build\.type: must be one of "docker", "layer", "prebuilt" \(got "nix"\)/],
    ['a field of another build type', { services: { api: { build: { type: 'prebuilt', from: '{image}:sha-{sha7}', dir: 'x' } } } }, /^services\.api\.build\.dir: unknown key/],
    ['a layer build with "platform"', { services: { api: { build: { type: 'layer', from: 'scratch', dir: 'x', platform: 'linux/arm64' } } } }, /^services\.api\.build\.platform: unknown key/],
    ['a platform that is not os/arch', { services: { api: { build: { type: 'layer', from: 'scratch', dir: 'x', platforms: ['linux/amd64', 'arm64'] } } } }, /^services\.api\.build\.platforms\[1\]: must be os\/architecture/],
    ['a platform listed twice', { services: { api: { build: { type: 'layer', from: 'scratch', dir: 'x', platforms: ['linux/amd64', 'linux/amd64'] } } } }, /^services\.api\.build\.platforms\[1\]: platform "linux\/amd64" is listed twice/],
    ['an exposed port out of range', { services: { api: { build: { type: 'layer', from: 'scratch', dir: 'x', exposedPorts: ['8080/tcp', '70000/tcp'] } } } }, /^services\.api\.build\.exposedPorts\[1\]: must be port or port\/protocol/],
    ['an exposed port with another protocol', { services: { api: { build: { type: 'layer', from: 'scratch', dir: 'x', exposedPorts: ['80/http'] } } } }, /^services\.api\.build\.exposedPorts\[0\]: .*\(got "80\/http"\)/],
    ['an env name with "="', { services: { api: { build: { type: 'layer', from: 'scratch', dir: 'x', env: { 'A=B': '1' } } } } }, /^services\.api\.build\.env\["A=B"\]: environment variable names/],
    ['an env value that is not a string', { services: { api: { build: { type: 'layer', from: 'scratch', dir: 'x', env: { PORT: 8080 } } } } }, /^services\.api\.build\.env\.PORT: .*expected string/],
    ['a relative workingDir', { services: { api: { build: { type: 'layer', from: 'scratch', dir: 'x', workingDir: 'app' } } } }, /^services\.api\.build\.workingDir: build\.workingDir must be an absolute path/],
    ['a user with two colons', { services: { api: { build: { type: 'layer', from: 'scratch', dir: 'x', user: 'a:b:c' } } } }, /^services\.api\.build\.user: build\.user must be user or user:group/],
    ['a provenance label', { services: { api: { build: { type: 'layer', from: 'scratch', dir: 'x', labels: { 'org.opencontainers.image.revision': 'x' } } } } }, /^services\.api\.build\.labels\["org\.opencontainers\.image\.revision"\]: is written by slipway/],
    ['a cmd that is not a list', { services: { api: { build: { type: 'layer', from: 'scratch', dir: 'x', cmd: 'server.js' } } } }, /^services\.api\.build\.cmd: .*expected array/],
    ['an unknown scheme', { ...minimal, scheme: 'monorepo' }, /^scheme: .*"per-service".*\(got "monorepo"\)/],
    ['a path escaping the workspace', { services: { api: { build: { type: 'layer', from: 'scratch', dir: '../x' } } } }, /^services\.api\.build\.dir: build\.dir must be a path inside the workspace/],
    ['more approvals than approvers', { ...minimal, environments: { p: { approvals: 2, approvers: ['a'] } } }, /^environments\.p\.approvals: needs 2 approvals but lists only 1/],
    ['a cycle of environments', { ...minimal, environments: { a: { after: 'b' }, b: { after: 'a' } } }, /cycle: a → b → a/],
    ['an npm service with a build', { services: { cli: { kind: 'npm', build: { type: 'prebuilt', from: 'x' } } } }, /^services\.cli\.build: an npm service/],
    ['no services', { services: {} }, /^services: at least one service/],
    ['a bad repository', { ...minimal, repository: 'acme' }, /^repository: must be a GitHub "owner\/name"/],
    ['a non-object', '[]', /\(root\): /],
  ])('rejects %s, naming the path', (_what, input, expected) => {
    const problems = problemsOf(input);
    expect(problems.some((p) => expected.test(p)), problems.join('\n')).toBe(true);
  });

  it.each([
    ['90s', 90_000],
    ['45m', 2_700_000],
    ['1h30m', 5_400_000],
    ['2h', 7_200_000],
    ['1m30s', 90_000],
  ])('build.timeout %s is %i ms', (text, ms) => {
    expect(parseConfig(JSON.stringify({ services: { api: { build: { type: 'docker', context: 'api', engine: 'podman', timeout: text } } } })).services['api']?.build).toMatchObject({ engine: 'podman', timeout: text });
    expect(durationMs(text)).toBe(ms);
  });

  it('accepts every field of a layer build', () => {
    const build = {
      type: 'layer',
      from: 'ghcr.io/acme/node:20',
      dir: 'dist/apps/api',
      platforms: ['linux/amd64', 'linux/arm64/v8'],
      entrypoint: ['node'],
      cmd: ['/app/server.js'],
      env: { NODE_ENV: 'production' },
      workingDir: '/app',
      user: '1000:1000',
      labels: { 'org.opencontainers.image.description': 'API' },
      exposedPorts: ['8080/tcp', '53/udp', '9090'],
      prefix: 'app/',
    };
    expect(parseConfig(text({ services: { api: { build } } })).services['api']?.build).toEqual(build);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({ services: { API: {}, api: { projct: 'x' } }, scheme: 'x' });
    expect(problems).toHaveLength(3);
  });

  it('names the unknown service and lists the known ones', () => {
    const config = parseConfig(text({ services: { api: {}, vault: {} } }));
    expect(() => getService(config, 'web')).toThrow('unknown service "web" (services.json has: api, vault)');
  });
});

describe('tag shapes, roots and prereleaseFrom (issue 17)', () => {
  it('resolves roots, tagPrefix and prereleaseFrom with their defaults', () => {
    const config = parseConfig(
      text({
        prereleaseFrom: 'any-branch',
        services: {
          api: { roots: ['services/api', 'pkg'], prereleaseFrom: 'main' },
          otelhttp: { root: 'instrumentation/net/http/otelhttp', tagPrefix: 'instrumentation/net/http/otelhttp/' },
          cli: { kind: 'npm', root: 'packages/cli', tagPrefix: '@acme/cli@' },
        },
      }),
    );
    expect(getService(config, 'api')).toMatchObject({ root: 'services/api', roots: ['services/api', 'pkg'], tagPrefix: 'api/', prereleaseFrom: 'main' });
    expect(getService(config, 'otelhttp')).toMatchObject({ roots: ['instrumentation/net/http/otelhttp'], tagPrefix: 'instrumentation/net/http/otelhttp/', prereleaseFrom: 'any-branch' });
    expect(getService(config, 'cli')).toMatchObject({ tagPrefix: '@acme/cli@' });
    expect(getService(parseConfig(text(minimal)), 'api')).toMatchObject({ roots: undefined, tagPrefix: 'api/', prereleaseFrom: 'main' });
  });

  it.each<[unknown, string]>([
    [{ services: { api: { root: 'a', roots: ['b'] } } }, 'services.api.roots: give "root" or "roots", not both'],
    [{ services: { api: { roots: [] } } }, 'services.api.roots'],
    [{ services: { api: { roots: ['../x'] } } }, 'services.api.roots[0]: roots[] must be a path inside the workspace'],
    [{ services: { api: { tagPrefix: 'api' } } }, 'services.api.tagPrefix: must be a path ending in "/"'],
    [{ services: { api: { tagPrefix: 'a//' } } }, 'services.api.tagPrefix: must be a path ending in "/"'],
    [{ services: { api: { tagPrefix: '@acme/api@' } } }, 'only for kind "npm" services'],
    [{ services: { cli: { kind: 'npm', tagPrefix: '@Acme/cli@' } } }, 'services.cli.tagPrefix: must be an npm package name and "@"'],
    [{ services: { a: { tagPrefix: 'x/' }, b: { tagPrefix: 'x/' } } }, 'services.b.tagPrefix: "x/" is already the tag prefix of a'],
    [{ services: { a: {}, b: { tagPrefix: 'a/' } } }, 'services.b.tagPrefix: "a/" is already the tag prefix of a'],
    [{ scheme: 'single', services: { a: { tagPrefix: 'x/' } } }, 'only the per-service scheme has per-service tags'],
    [{ prereleaseFrom: 'anywhere', services: { a: {} } }, 'prereleaseFrom'],
    [{ services: { a: { prereleaseFrom: 'feature' } } }, 'services.a.prereleaseFrom'],
  ])('refuses %j', (value, says) => {
    expect(problemsOf(value).join('\n')).toContain(says);
  });
});
